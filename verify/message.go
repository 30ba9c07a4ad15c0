package verify

import (
	"fmt"

	"github.com/facenet-go/facenet/internal/pyfloat"
)

// The notebook's printed sentences, kept in one place so the CLI and the library cannot drift.
// The capitalisation differs between verify ("It's") and who_is_it ("it's") in the notebook,
// and is kept.
const (
	msgWelcome  = "It's %s, welcome in!"
	msgGoAway   = "It's not %s, please go away"
	msgIdentity = "it's %s, the distance is %s"
	msgUnknown  = "Not in the database."
)

// VerifyMessage is the sentence the notebook's verify prints for a decision on identity.
func VerifyMessage(identity string, accepted bool) string {
	if accepted {
		return fmt.Sprintf(msgWelcome, identity)
	}
	return fmt.Sprintf(msgGoAway, identity)
}

// WhoIsItMessage is the sentence the notebook's who_is_it prints: the identity and its distance
// formatted as Python prints a numpy float32, or "Not in the database." when unknown.
func WhoIsItMessage(identity string, distance float32, known bool) string {
	if !known {
		return msgUnknown
	}
	return fmt.Sprintf(msgIdentity, identity, FormatFloat32(distance))
}

// FormatFloat32 formats f as Python's str() of a numpy float32 scalar (numpy >= 1.14):
// the shortest decimal that round-trips through float32, positional when 1e-4 <= |f| < 1e16
// or f is zero ("0.5992949", "1.0", "0.0", "123456790.0"), scientific otherwise with at
// least two exponent digits ("1e-05", "1.5e-05", "1e+16"); "nan", "inf", "-inf".
func FormatFloat32(f float32) string { return pyfloat.Repr(float64(f), 32) }
