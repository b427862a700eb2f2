//go:build wasip1

// Package filter exports the wp_filter hook. Register the function in an
// init function of the plugin's main package.
package filter

import "wasmplug.dev/wasmplug"

var handler func(in []byte) (bool, error)

// Handle registers fn as the filter hook: true keeps the input, false drops
// it; an error fails the call with a GuestError carrying its text.
func Handle(fn func(in []byte) (bool, error)) { handler = fn }

//go:wasmexport wp_filter
func wpFilter(ptr, length uint32) int32 {
	in := wasmplug.TakeInput(ptr, length)
	if handler == nil {
		wasmplug.Fail("no filter registered (call filter.Handle in init)")
	}
	keep, err := handler(in)
	if err != nil {
		wasmplug.Fail(err.Error())
	}
	if keep {
		return 1
	}
	return 0
}
