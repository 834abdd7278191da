package catalog

import (
	"context"
	"errors"
	"fmt"
	"hash"
	"io"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Batch issuing (批量签发): a stream of data rows becomes licenses through a
// pipeline. One reader goroutine pulls rows from a RowSource and gives each a
// serial from a block reserved in the BatchJournal; N workers validate,
// render, seal and give each a QR code and a status-list index (CPU work);
// one committer takes the results back into row order and, per group of rows,
// writes the files without syncing them, makes them durable with one
// BatchFiles.Sync, then stores every license of the group and its journal
// entry in one BatchJournal.CommitBatch transaction. A record therefore never
// exists without its synced file; a file without a record (after a crash) is
// harmless and is overwritten by the rerun, which gives the row the same
// identifier because serials are tied to row positions by the journal.

// Batch sentinels.
var (
	// ErrBatchSource: the row source cannot be read any further (an I/O
	// error, or a malformed file that loses the row structure).
	ErrBatchSource = errors.New("catalog: batch source unreadable")
)

// BatchOutcome is what happened to one row.
type BatchOutcome string

// Row outcomes.
const (
	OutcomeIssued   BatchOutcome = "issued"   // a new license was issued in this run
	OutcomeExisting BatchOutcome = "existing" // the license number is already in force (or was issued by an earlier run of this batch)
	OutcomeRejected BatchOutcome = "rejected" // the row has problems; nothing was issued
	OutcomeValid    BatchOutcome = "valid"    // CheckBatch: the row would be issued
)

// Row-level problem codes of batch issuing (besides those of ValidateRow and
// the Renderer).
const (
	CodeBadRow    = "bad_row"   // the reader could not turn the record into a row
	CodeDuplicate = "duplicate" // the license number appears on an earlier row of the same source
	CodeConflict  = "conflict"  // a concurrent change took the license number, digest or status index
	CodeFailed    = "failed"    // rendering, sealing or the QR code failed for this row
)

// BatchRow is one data row of a source.
type BatchRow struct {
	Num    int               // row number as the department sees it (CSV record / sheet row / JSONL line)
	Values map[string]string // item key → value
	Err    error             // the record could not be read as a row; the batch goes on
}

// RowSource streams the rows of a batch. Next returns io.EOF after the last
// row; any other error stops the batch and should wrap ErrBatchSource.
type RowSource interface {
	Next() (BatchRow, error)
}

// BatchFiles writes license files for the committer: Write need not be
// durable, Sync makes every file written so far durable (file data and
// folder entries). Write replaces an existing file of that identifier.
type BatchFiles interface {
	Write(id string, data []byte) error
	Sync() error
}

// Batch is the journal record of one batch. Its ID is chosen by the caller
// and should be a function of the type, the department and the source's
// digest, so that running the same source again resumes the same batch.
type Batch struct {
	ID           string
	TypeKey      string
	DeptKey      string
	SourceName   string
	SourceDigest string // lower-case hex SM3 of the source file
	Year         string // the serial year, fixed at the first run
	Started      time.Time
	Finished     time.Time // zero until a run completes
	Runs         int
	Actor        string
}

// BatchEntry is the journal entry of one row that this batch issued.
type BatchEntry struct {
	Row       int
	SourceKey string
	ID        string
	Digest    string
}

// BatchJournal is the crash-safe journal of batch issuing. Implemented by
// boltstore.
type BatchJournal interface {
	// OpenBatch returns the stored batch with b.ID, or stores b and returns
	// it (created true). Errors: ErrInvalid for an empty ID.
	OpenBatch(ctx context.Context, b *Batch) (stored *Batch, created bool, err error)
	// PutBatch replaces the batch record (ErrNotFound for an unknown ID).
	PutBatch(ctx context.Context, b *Batch) error
	// SerialBlock returns the first serial of block number block of the
	// batch, reserving size values of the sequence seq the first time it is
	// asked for; later calls return the same value.
	SerialBlock(ctx context.Context, batchID string, block int, seq string, size int) (uint64, error)
	// CommitBatch stores the licenses and the journal entries in one
	// transaction. A license whose identifier, in-force number, digest or
	// status index is taken is skipped (with its entry), and its index in ls
	// is returned in skipped with the reason (wrapping ErrExists).
	CommitBatch(ctx context.Context, batchID string, entries []BatchEntry, ls []*License) (skipped map[int]error, err error)
	// BatchEntries calls fn for each entry of the batch in row order.
	BatchEntries(ctx context.Context, batchID string, fn func(BatchEntry) error) error
}

// BatchResult is the outcome of one row, reported in row order once durable.
type BatchResult struct {
	Row       int
	SourceKey string
	Outcome   BatchOutcome
	ID        string
	Digest    string
	Problems  []FieldError // for OutcomeRejected; for a duplicate row, the note
	Resumed   bool         // existing because an earlier run of this batch issued it
}

// BatchProgress is a snapshot of a running batch.
type BatchProgress struct {
	Done     int // rows finished (durable and reported)
	Issued   int
	Existing int
	Rejected int
	Resumed  int // of Existing: issued by an earlier run of this same batch
	Total    int // rows in the source when known, else -1
	Elapsed  time.Duration
	Rate     float64 // rows per second since the start
	Finished bool
}

// BatchRequest asks for a batch run.
type BatchRequest struct {
	Batch   Batch // ID, TypeKey, DeptKey, SourceName, SourceDigest, Actor
	Source  RowSource
	Total   int // rows in the source when known, else -1 (progress only)
	Journal BatchJournal
	Files   BatchFiles
	// Report receives each row's result in row order, from one goroutine,
	// after the row is durable. An error stops the batch.
	Report func(BatchResult) error
	// Workers is the number of render/seal goroutines; 0 means GOMAXPROCS+1.
	Workers int
	// GroupSize and GroupDelay bound a commit group: default 200 rows, 100 ms.
	GroupSize  int
	GroupDelay time.Duration
	// SerialBlock is the number of serials reserved at a time (default 256).
	// Rejected rows leave their serial unused: serials of a batch have gaps.
	SerialBlock int
}

// BatchJob is a running batch. Progress may be polled from any goroutine.
type BatchJob struct {
	start   time.Time
	now     Clock
	total   int
	done    chan struct{}
	cancel  context.CancelFunc
	batch   *Batch
	err     error
	counts  [5]atomic.Int64 // done, issued, existing, rejected, resumed
	stopped atomic.Bool
	elapsed atomic.Int64 // nanoseconds from start to stop, once stopped
}

// Progress returns a snapshot.
func (j *BatchJob) Progress() BatchProgress {
	p := BatchProgress{
		Done: int(j.counts[0].Load()), Issued: int(j.counts[1].Load()), Existing: int(j.counts[2].Load()),
		Rejected: int(j.counts[3].Load()), Resumed: int(j.counts[4].Load()), Total: j.total,
		Elapsed: j.now().Sub(j.start), Finished: j.stopped.Load(),
	}
	if p.Finished {
		p.Elapsed = time.Duration(j.elapsed.Load()) // the rate of a stopped job stays put
	}
	if s := p.Elapsed.Seconds(); s > 0 {
		p.Rate = float64(p.Done) / s
	}
	return p
}

// Done is closed when the batch has stopped.
func (j *BatchJob) Done() <-chan struct{} { return j.done }

// Cancel stops the batch after the group being committed.
func (j *BatchJob) Cancel() { j.cancel() }

// Wait waits for the end and returns the batch record (Finished set when
// every row was processed) and the error that stopped it, if any.
func (j *BatchJob) Wait() (*Batch, error) {
	<-j.done
	return j.batch, j.err
}

// StartBatch checks the request, opens (or resumes) the batch in the journal
// and starts the pipeline in the background. Errors: those of the type and
// department lookup (ErrNotFound, ErrUnpublished, ErrForbidden, a
// *ValidationError when no department is given and the type has several);
// ErrInvalid for a request without ID, source, journal or files.
func (s *Service) StartBatch(ctx context.Context, req BatchRequest) (*BatchJob, error) {
	if req.Batch.ID == "" || req.Source == nil || req.Journal == nil || req.Files == nil {
		return nil, fmt.Errorf("catalog: batch: ID, source, journal and files are required: %w", ErrInvalid)
	}
	if s.Renderer == nil || s.Sealer == nil {
		return nil, fmt.Errorf("catalog: batch: no renderer or sealer configured: %w", ErrInvalid)
	}
	t, dept, err := s.typeAndDept(ctx, req.Batch.TypeKey, req.Batch.DeptKey, Actor{Name: req.Batch.Actor})
	if err != nil {
		return nil, err
	}
	if cs, ok := req.Source.(ColumnSource); ok {
		keys, err := MatchColumns(t, cs.Columns())
		if err != nil {
			return nil, err
		}
		cs.SetColumns(keys)
	}
	now := s.Now()
	nb := req.Batch
	nb.DeptKey, nb.Year, nb.Started, nb.Runs = dept.Key, now.Format("2006"), now, 0
	b, _, err := req.Journal.OpenBatch(ctx, &nb)
	if err != nil {
		return nil, fmt.Errorf("catalog: batch %s: %w", nb.ID, err)
	}
	if b.TypeKey != t.Key || b.DeptKey != dept.Key {
		return nil, fmt.Errorf("catalog: batch %s belongs to %s/%s: %w", b.ID, b.TypeKey, b.DeptKey, ErrConflict)
	}
	b.Runs++
	b.Finished = time.Time{}
	if err := req.Journal.PutBatch(ctx, b); err != nil {
		return nil, fmt.Errorf("catalog: batch %s: %w", b.ID, err)
	}
	done := map[int]BatchEntry{}
	err = req.Journal.BatchEntries(ctx, b.ID, func(e BatchEntry) error { done[e.Row] = e; return nil })
	if err != nil {
		return nil, fmt.Errorf("catalog: batch %s: %w", b.ID, err)
	}
	_, used, err := s.Store.StatusIndexUsed(ctx, 0)
	if err != nil {
		return nil, fmt.Errorf("catalog: batch: %w", err)
	}
	if req.Workers <= 0 {
		// One more than the cores: a worker waiting on a lookup leaves
		// a core to the others.
		req.Workers = runtime.GOMAXPROCS(0) + 1
	}
	if req.GroupSize <= 0 {
		req.GroupSize = 200
	}
	if req.GroupDelay <= 0 {
		req.GroupDelay = 100 * time.Millisecond
	}
	if req.SerialBlock <= 0 {
		req.SerialBlock = 256
	}
	if req.Total == 0 {
		req.Total = -1
	}
	ctx, cancel := context.WithCancel(ctx)
	j := &BatchJob{start: now, now: s.Now, total: req.Total, done: make(chan struct{}), cancel: cancel, batch: b}
	alloc := &indexAlloc{s: s, count: used, claimed: map[int]bool{}}
	if lister, ok := s.Store.(StatusIndexLister); ok {
		if err := alloc.load(ctx, lister); err != nil {
			cancel()
			return nil, fmt.Errorf("catalog: batch: %w", err)
		}
	}
	r := &batchRun{s: s, req: req, t: t, dept: dept, b: b, job: j, prior: done, alloc: alloc}
	go func() {
		defer close(j.done)
		defer cancel()
		j.err = r.run(ctx)
		if j.err == nil {
			b.Finished = s.Now()
			if err := req.Journal.PutBatch(context.WithoutCancel(ctx), b); err != nil {
				j.err = fmt.Errorf("catalog: batch %s: %w", b.ID, err)
			}
		}
		j.elapsed.Store(int64(j.now().Sub(j.start)))
		j.stopped.Store(true)
	}()
	return j, nil
}

type batchRun struct {
	s     *Service
	req   BatchRequest
	t     *LicenseType
	dept  *Department
	b     *Batch
	job   *BatchJob
	prior map[int]BatchEntry // rows issued by earlier runs of this batch
	alloc *indexAlloc
}

// item is one row travelling through the pipeline.
type item struct {
	seq    int
	row    BatchRow
	serial string
	res    BatchResult
	lic    *License
	file   []byte
}

func (r *batchRun) run(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	inflight := r.req.GroupSize + 8*r.req.Workers // bounds the sealed files held in memory
	slots := make(chan struct{}, inflight)
	work := make(chan *item, r.req.Workers*2)
	results := make(chan *item, inflight)
	var wg sync.WaitGroup
	var readErr error
	go func() { // reader
		defer close(work)
		readErr = r.read(ctx, work, slots) // rows read before an error are still committed
	}()
	for i := 0; i < r.req.Workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range work {
				r.produce(ctx, it)
				results <- it
			}
		}()
	}
	go func() { wg.Wait(); close(results) }()
	err := r.commit(ctx, cancel, results, slots)
	if err != nil {
		cancel(err)
		for range results { // let workers finish
		}
		return err
	}
	if cause := context.Cause(ctx); cause != nil && cause != context.Canceled {
		return cause
	}
	if readErr != nil {
		return readErr
	}
	return ctx.Err()
}

func (r *batchRun) read(ctx context.Context, work chan<- *item, slots chan struct{}) error {
	block, first := -1, uint64(0)
	seqName := r.t.Code + "." + r.dept.USCC + "." + r.b.Year
	for seq := 0; ; seq++ {
		row, err := r.req.Source.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("catalog: batch %s: %w", r.b.ID, err)
		}
		if k := seq / r.req.SerialBlock; k != block {
			if first, err = r.req.Journal.SerialBlock(ctx, r.b.ID, k, seqName, r.req.SerialBlock); err != nil {
				return fmt.Errorf("catalog: batch %s: serials: %w", r.b.ID, err)
			}
			block = k
		}
		it := &item{seq: seq, row: row, serial: r.b.Year + fmt.Sprintf("%08d", first+uint64(seq%r.req.SerialBlock))}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		select {
		case work <- it:
		case <-ctx.Done():
			return nil
		}
	}
}

// produce does the CPU work of one row; it fills it.res (and lic, file).
func (r *batchRun) produce(ctx context.Context, it *item) {
	it.res.Row = it.row.Num
	reject := func(p ...FieldError) { it.res.Outcome, it.res.Problems = OutcomeRejected, p }
	if ctx.Err() != nil {
		return
	}
	values, now, issue := r.s.screenRow(ctx, r.t, it.row, &it.res, func(res *BatchResult) bool {
		e, ok := r.prior[it.row.Num]
		if !ok || e.SourceKey != strings.TrimSpace(res.SourceKey) {
			return false
		}
		res.Outcome, res.ID, res.Digest, res.Resumed = OutcomeExisting, e.ID, e.Digest, true
		return true
	})
	if !issue {
		return
	}
	l := r.s.newLicense(r.t, r.dept, values, it.serial, 1, now)
	idx, err := r.alloc.draw(ctx)
	if err != nil {
		reject(FieldError{Code: CodeFailed, Message: err.Error()})
		return
	}
	l.StatusIndex = idx
	l.BatchID, l.SourceKey = r.b.ID, it.res.SourceKey
	l.History = []Transition{{To: StatusIssued, Actor: r.b.Actor, Reason: "批量签发", At: now}}
	data, err := r.s.render(ctx, r.dept, l)
	if err != nil {
		r.alloc.release(idx, false)
		reject(FieldError{Code: CodeFailed, Message: err.Error()})
		return
	}
	it.lic, it.file = l, data
	it.res.Outcome, it.res.ID, it.res.Digest = OutcomeIssued, l.ID, l.Digest
}

// render makes the sealed file of l and sets l.Digest, without storing it.
func (s *Service) render(ctx context.Context, d *Department, l *License) (data []byte, err error) {
	qr := ""
	if s.QR != nil {
		if qr, err = s.QR.StaticText(ctx, d, l); err != nil {
			return nil, fmt.Errorf("catalog: qr for %s: %w", l.ID, err)
		}
	}
	buf := renderPool.Get().(*bufWriter)
	defer func() { buf.b = buf.b[:0]; renderPool.Put(buf) }()
	if err := s.Renderer.Render(buf, l, qr); err != nil {
		return nil, fmt.Errorf("catalog: render %s: %w", l.ID, err)
	}
	sealed, digest, err := s.Sealer.Seal(ctx, d, buf.b)
	if err != nil {
		return nil, fmt.Errorf("catalog: seal %s: %w", l.ID, err)
	}
	l.Digest = digest
	return sealed, nil
}

type bufWriter struct{ b []byte }

func (w *bufWriter) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }

var renderPool = sync.Pool{New: func() any { return &bufWriter{b: make([]byte, 0, 64<<10)} }}

// commit puts results back into row order and writes each license file as
// soon as its turn comes (without fsync; the file bytes are then dropped),
// and hands groups of written rows to a second goroutine that makes them
// durable with one BatchFiles.Sync and stores their records with one
// BatchJournal.CommitBatch. Groups are committed as soon as the previous one
// is done and GroupSize rows or GroupDelay have passed; while a commit is in
// progress rows keep accumulating (up to maxGroupFactor×GroupSize), so a
// slow disk makes groups larger rather than stalling the workers.
func (r *batchRun) commit(ctx context.Context, stop context.CancelCauseFunc, results <-chan *item, slots <-chan struct{}) error {
	groups := make(chan []*item)
	var commitErr error
	stageDone := make(chan struct{})
	go func() {
		defer close(stageDone)
		for g := range groups {
			if commitErr != nil {
				continue
			}
			if commitErr = r.syncAndCommit(ctx, g); commitErr != nil {
				stop(commitErr)
			}
		}
	}()
	err := r.order(ctx, results, slots, groups)
	if err != nil {
		stop(err)
	}
	close(groups)
	<-stageDone
	return errors.Join(err, commitErr)
}

const maxGroupFactor = 10

func (r *batchRun) order(ctx context.Context, results <-chan *item, slots <-chan struct{}, groups chan<- []*item) error {
	pending := map[int]*item{}
	next := 0
	var group []*item
	var err error
	numbers := map[string]int{} // license number → first row issuing it in this run
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	due := false // GroupDelay has passed since the group's first row
	offer := func(force bool) {
		if len(group) == 0 || !force && !due && len(group) < r.req.GroupSize {
			return
		}
		if force || len(group) >= maxGroupFactor*r.req.GroupSize {
			groups <- group
		} else {
			select {
			case groups <- group:
			default:
				return // the committer is busy: keep accumulating
			}
		}
		group, due = nil, false
		timer.Stop()
	}
	for {
		var it *item
		var ok bool
		select {
		case it, ok = <-results:
		case <-timer.C:
			due = true
			offer(false)
			if len(group) > 0 { // still busy: try again shortly
				timer.Reset(r.req.GroupDelay / 4)
			}
			continue
		}
		if !ok {
			break
		}
		pending[it.seq] = it
		for {
			it, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			<-slots
			if it.res.Outcome == "" || err != nil || ctx.Err() != nil { // cancelled: drop
				continue
			}
			if it.res.Outcome == OutcomeIssued {
				if first, dup := numbers[it.res.SourceKey]; dup {
					r.alloc.release(it.lic.StatusIndex, false)
					it.res = BatchResult{Row: it.row.Num, SourceKey: it.res.SourceKey, Outcome: OutcomeRejected,
						Problems: []FieldError{{Item: r.t.NumberKey(), Code: CodeDuplicate, Message: fmt.Sprintf("证照编号与第%d行重复", first)}}}
					it.lic, it.file = nil, nil
				} else {
					// A clone: the reader's value may share its memory
					// with the whole record, which the map would keep.
					numbers[strings.Clone(it.res.SourceKey)] = it.row.Num
					if werr := r.req.Files.Write(it.lic.ID, it.file); werr != nil {
						err = fmt.Errorf("catalog: batch %s: file %s: %w", r.b.ID, it.lic.ID, werr)
						continue
					}
					it.file = nil
				}
			}
			if len(group) == 0 {
				timer.Reset(r.req.GroupDelay)
			}
			group = append(group, it)
			offer(false)
		}
	}
	timer.Stop()
	if err == nil && ctx.Err() == nil {
		offer(true)
	}
	return err
}

// syncAndCommit makes the files of a group durable, stores the group's
// records in one transaction, then reports its rows.
func (r *batchRun) syncAndCommit(ctx context.Context, group []*item) error {
	for _, it := range group {
		if it.lic != nil {
			if err := r.req.Files.Sync(); err != nil {
				return fmt.Errorf("catalog: batch %s: sync files: %w", r.b.ID, err)
			}
			break
		}
	}
	return r.commitGroup(ctx, group)
}

// commitGroup stores a synced group in one transaction, then reports it.
func (r *batchRun) commitGroup(ctx context.Context, group []*item) error {
	var ls []*License
	var es []BatchEntry
	var at []*item
	for _, it := range group {
		if it.lic == nil {
			continue
		}
		ls = append(ls, it.lic)
		es = append(es, BatchEntry{Row: it.row.Num, SourceKey: it.res.SourceKey, ID: it.lic.ID, Digest: it.lic.Digest})
		at = append(at, it)
	}
	if len(ls) > 0 {
		skipped, err := r.req.Journal.CommitBatch(context.WithoutCancel(ctx), r.b.ID, es, ls)
		if err != nil {
			return fmt.Errorf("catalog: batch %s: commit: %w", r.b.ID, err)
		}
		for i, cause := range skipped {
			it := at[i]
			if old, err := r.s.Store.GetByNumber(ctx, r.t.Key, it.res.SourceKey); err == nil && old.Status != StatusRevoked {
				it.res = BatchResult{Row: it.row.Num, SourceKey: it.res.SourceKey, Outcome: OutcomeExisting, ID: old.ID, Digest: old.Digest}
				continue
			}
			it.res = BatchResult{Row: it.row.Num, SourceKey: it.res.SourceKey, Outcome: OutcomeRejected,
				Problems: []FieldError{{Code: CodeConflict, Message: cause.Error()}}}
		}
	}
	for _, it := range group {
		if it.lic != nil {
			r.alloc.release(it.lic.StatusIndex, it.res.Outcome == OutcomeIssued)
		}
		r.job.counts[0].Add(1)
		switch it.res.Outcome {
		case OutcomeIssued:
			r.job.counts[1].Add(1)
		case OutcomeExisting:
			r.job.counts[2].Add(1)
			if it.res.Resumed {
				r.job.counts[4].Add(1)
			}
		case OutcomeRejected:
			r.job.counts[3].Add(1)
		}
		if r.req.Report != nil {
			if err := r.req.Report(it.res); err != nil {
				return fmt.Errorf("catalog: batch %s: report: %w", r.b.ID, err)
			}
		}
	}
	return nil
}

// indexAlloc draws status-list indexes for rows in flight: unused in the
// store and not claimed by another row of this run.
type indexAlloc struct {
	s       *Service
	mu      sync.Mutex
	count   int // claimed in the store when the batch started, plus drawn since
	claimed map[int]bool
	used    []uint64 // bitmap of the indexes claimed when the batch started; nil: ask the store each time
}

// load fills the bitmap from the store.
func (a *indexAlloc) load(ctx context.Context, l StatusIndexLister) error {
	used := []uint64{}
	err := l.StatusIndexes(ctx, func(i int) error {
		if i < 0 {
			return fmt.Errorf("status index %d: %w", i, ErrInvalid)
		}
		used = setBit(used, i)
		return nil
	})
	if err != nil {
		return err
	}
	a.used = used
	return nil
}

// setBit sets bit i of the bitmap b, growing it as needed.
func setBit(b []uint64, i int) []uint64 {
	for i/64 >= len(b) {
		b = append(b, 0)
	}
	b[i/64] |= 1 << (i % 64)
	return b
}

// inStore reports whether idx is claimed in the store.
func (a *indexAlloc) inStore(ctx context.Context, idx int) (bool, error) {
	if a.used != nil {
		return idx/64 < len(a.used) && a.used[idx/64]&(1<<(idx%64)) != 0, nil
	}
	used, _, err := a.s.Store.StatusIndexUsed(ctx, idx)
	return used, err
}

func (a *indexAlloc) draw(ctx context.Context) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	size := StatusListMin
	for a.count*2 >= size {
		size *= 2
	}
	var b [8]byte
	for try := 0; try < 64; try++ {
		if _, err := io.ReadFull(a.s.Rand, b[:]); err != nil {
			return 0, fmt.Errorf("catalog: status index: %w", err)
		}
		idx := int(beUint64(b[:]) % uint64(size))
		if a.claimed[idx] {
			continue
		}
		used, err := a.inStore(ctx, idx)
		if err != nil {
			return 0, fmt.Errorf("catalog: status index: %w", err)
		}
		if !used {
			a.claimed[idx] = true
			a.count++
			return idx, nil
		}
	}
	return 0, fmt.Errorf("catalog: status index: no free slot found: %w", ErrConflict)
}

// release forgets an in-run claim once the index is in the store (stored)
// or was given up; the store (or the bitmap) answers for it from then on.
func (a *indexAlloc) release(idx int, stored bool) {
	a.mu.Lock()
	delete(a.claimed, idx)
	if stored && a.used != nil {
		a.used = setBit(a.used, idx)
	}
	a.mu.Unlock()
}

func beUint64(b []byte) uint64 {
	var v uint64
	for _, x := range b[:8] {
		v = v<<8 | uint64(x)
	}
	return v
}

// MerkleRoot returns the Merkle tree root over leaves (in their order) with
// the hash h: leaf = H(0x00 ‖ leaf bytes), node = H(0x01 ‖ left ‖ right); a
// level with an odd number of nodes promotes its last node unchanged to the
// next level. The root of no leaves is H() of the empty input.
func MerkleRoot(h func() hash.Hash, leaves [][]byte) []byte {
	hh := h()
	if len(leaves) == 0 {
		return hh.Sum(nil)
	}
	level := make([][]byte, len(leaves))
	for i, l := range leaves {
		hh.Reset()
		hh.Write([]byte{0})
		hh.Write(l)
		level[i] = hh.Sum(nil)
	}
	for len(level) > 1 {
		next := level[:0:0]
		for i := 0; i+1 < len(level); i += 2 {
			hh.Reset()
			hh.Write([]byte{1})
			hh.Write(level[i])
			hh.Write(level[i+1])
			next = append(next, hh.Sum(nil))
		}
		if len(level)%2 == 1 {
			next = append(next, level[len(level)-1])
		}
		level = next
	}
	return level[0]
}
