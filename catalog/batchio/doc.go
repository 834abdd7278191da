// Package batchio reads and writes the files of batch issuing: row sources
// for catalog.Service.StartBatch in CSV, XLSX and JSON Lines, the per-row
// report in CSV, and a catalog.BatchFiles that writes license files without
// syncing each one and makes a whole group durable with one syncfs(2).
//
// # Basics
//
// Every source streams: a row is read when the pipeline asks for it, so the
// memory used does not grow with the file. Row numbers are those a person
// sees: in CSV the line the record starts on (the header on line 1, so the
// first data row is 2, as in a spreadsheet; only a quoted value spanning
// lines makes lines and spreadsheet rows differ), in XLSX the sheet row, in
// JSON Lines the line number. A record that cannot become a row (a wrong number of fields, a
// line that is not a JSON object of strings) is returned as a BatchRow with
// Err set, and the batch goes on; only an unreadable file stops it
// (catalog.ErrBatchSource).
//
// CSV may be UTF-8, with or without a byte-order mark, or GB18030 (detected
// when the first 64 KB are not valid UTF-8). Empty rows are skipped; empty
// cells mean an absent item.
//
// # Non-goals
//
// Formulas and dates typed as Excel dates are not interpreted: XLSX cells
// are read as the text Excel shows, so date items should be text cells in
// YYYY-MM-DD.
//
// # Caveats
//
// GroupFiles relies on syncfs(2) (Linux): a Sync flushes every dirty file of
// the file system, not only the group's, which is cheap when the batch is
// the main writer.
package batchio
