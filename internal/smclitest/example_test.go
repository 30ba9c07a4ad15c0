package smclitest_test

import (
	"fmt"
	"strings"

	"github.com/facenet-go/facenet/internal/smclitest"
)

// Op sets are compared as sets, because Python prints them in hash order; anything else must
// match exactly.
func ExampleCompare() {
	want := "The MetaGraph with tag set ['serve'] contains the following ops: {'NoOp', 'Const'}\n"
	got := "The MetaGraph with tag set ['serve'] contains the following ops: {'Const', 'NoOp'}\n"
	fmt.Println(smclitest.Compare(want, got))
	fmt.Println(smclitest.Compare(want, strings.Replace(got, "NoOp", "Identity", 1)) != nil)
	// Output:
	// <nil>
	// true
}
