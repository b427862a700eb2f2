//go:build wasip1

// Package observe exports the wp_observe hook. Register the function in an
// init function of the plugin's main package.
package observe

import "wasmplug.dev/wasmplug"

var handler func(in []byte) error

// Handle registers fn as the observe hook (side effects only); an error
// fails the call with a GuestError carrying its text.
func Handle(fn func(in []byte) error) { handler = fn }

//go:wasmexport wp_observe
func wpObserve(ptr, length uint32) {
	in := wasmplug.TakeInput(ptr, length)
	if handler == nil {
		wasmplug.Fail("no observe registered (call observe.Handle in init)")
	}
	if err := handler(in); err != nil {
		wasmplug.Fail(err.Error())
	}
}
