//go:build wasip1

// Package transform exports the wp_transform hook. Register the function in
// an init function of the plugin's main package.
package transform

import (
	"errors"

	"wasmplug.dev/wasmplug"
)

var handler func(in []byte) ([]byte, error)

// Handle registers fn as the transform hook: its result is the output record
// (an empty slice is an empty record); wasmplug.ErrDrop drops the input; any
// other error fails the call with a GuestError carrying its text. `in` is the
// plugin's to keep or reuse (for example as the output).
func Handle(fn func(in []byte) ([]byte, error)) { handler = fn }

//go:wasmexport wp_transform
func wpTransform(ptr, length uint32) uint64 {
	in := wasmplug.TakeInput(ptr, length)
	if handler == nil {
		wasmplug.Fail("no transform registered (call transform.Handle in init)")
	}
	out, err := handler(in)
	if errors.Is(err, wasmplug.ErrDrop) {
		return wasmplug.Drop
	}
	if err != nil {
		wasmplug.Fail(err.Error())
	}
	return wasmplug.PackOutput(out)
}
