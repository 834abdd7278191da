package catalog

// Action is a lifecycle change requested by an actor.
type Action string

// Lifecycle actions. Update is not here: it creates a new version (see Service.Update)
// and moves the old one to StatusSuperseded.
const (
	ActionSuspend   Action = "suspend"   // 停用: issued → suspended
	ActionResume    Action = "resume"    // 恢复: suspended → issued
	ActionRevoke    Action = "revoke"    // 注销: issued or suspended → revoked
	ActionSupersede Action = "supersede" // 更新: issued or suspended → superseded
)

// transitions is the whole state machine: action → allowed from-states → to-state.
var transitions = map[Action]struct {
	from []Status
	to   Status
}{
	ActionSuspend:   {[]Status{StatusIssued}, StatusSuspended},
	ActionResume:    {[]Status{StatusSuspended}, StatusIssued},
	ActionRevoke:    {[]Status{StatusIssued, StatusSuspended}, StatusRevoked},
	ActionSupersede: {[]Status{StatusIssued, StatusSuspended}, StatusSuperseded},
}

// Next returns the status an action leads to from the stored status from, or a
// *TransitionError when the state machine forbids it. Revoked and superseded
// are final. Expiry is not a stored state: an expired license may still be
// suspended or revoked, which Next allows because it works on stored statuses.
func Next(id string, from Status, a Action) (Status, error) {
	t, ok := transitions[a]
	if ok {
		for _, f := range t.from {
			if f == from {
				return t.to, nil
			}
		}
	}
	to := Status(a)
	if ok {
		to = t.to
	}
	return "", &TransitionError{ID: id, From: from, To: to}
}

// Actions lists every lifecycle action in a stable order.
func Actions() []Action {
	return []Action{ActionSuspend, ActionResume, ActionRevoke, ActionSupersede}
}

// Statuses lists every stored status in a stable order.
func Statuses() []Status {
	return []Status{StatusIssued, StatusSuspended, StatusRevoked, StatusSuperseded}
}
