// {{name}} — a wasmplug plugin in Go (native ABI v1, transform hook).
//
// Build:  make            (GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared)
// Run:    printf 'hello\n' | wasmplug run {{name}}.wasm --wasi --format lines
package main

import (
	"bytes"

	"wasmplug.dev/wasmplug"
	"wasmplug.dev/wasmplug/transform"
)

// upper returns the record in upper case. Return wasmplug.ErrDrop to drop a
// record, any other error to fail the call.
func upper(in []byte) ([]byte, error) {
	if len(in) == 0 {
		return nil, wasmplug.ErrDrop
	}
	return bytes.ToUpper(in), nil
}

func init() {
	// Optional: receive the plugin's config (CLI --config) once per instance.
	wasmplug.Init(func(config []byte) error { return nil })
	transform.Handle(upper)
}

// A plugin has no main; the host calls its hooks.
func main() {}
