package nhg

import (
	"errors"
	"fmt"
)

var (
	// ErrInvalid reports a group, nexthop or argument that breaks one of the
	// rules in the package doc. Validation errors say which group and member
	// and why; match them with errors.Is(err, ErrInvalid).
	ErrInvalid = errors.New("invalid nexthop group")
	// ErrExhausted reports that an owner's ID range has no free ID left.
	ErrExhausted = errors.New("id range exhausted")
	// ErrInUse reports an ID that is already allocated, or reserved by another
	// group.
	ErrInUse = errors.New("id in use")
	// ErrNotFound reports a group or ID that is not there.
	ErrNotFound = errors.New("not found")
	// ErrDeleting reports a new reference to a group its owner has deleted
	// and that only waits for its last users to leave.
	ErrDeleting = errors.New("group is being deleted")
)

// invalidError is a validation error: its message stands alone (no suffix)
// and it matches ErrInvalid.
type invalidError struct{ msg string }

func (e *invalidError) Error() string { return e.msg }

func (e *invalidError) Is(target error) bool { return target == ErrInvalid }

func invalidf(format string, args ...any) error {
	return &invalidError{msg: fmt.Sprintf(format, args...)}
}
