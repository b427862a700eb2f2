//go:build wasip1

// Package wasmplug is the Go guest SDK for wasmplug's native ABI v1
// (docs/abi.md). Build plugins with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o plugin.wasm .
//
// and load them with WASI enabled (LoadOptions::wasi, CLI --wasi): the Go
// runtime needs clocks, random bytes and stdout, which wasmplug's WASI
// capability set provides (and nothing else: no files, sockets or
// environment).
//
// This package provides the ABI marker, the allocator exports (wp_alloc,
// wp_free), wp_init and wp_shutdown, logging and failing. Each hook lives in
// a package of its own so that a plugin exports exactly the hooks it
// registers: import wasmplug.dev/wasmplug/transform, .../filter or
// .../observe and register your function in init:
//
//	func init() {
//		transform.Handle(func(in []byte) ([]byte, error) {
//			return bytes.ToUpper(in), nil
//		})
//	}
//
//	func main() {}
//
// Calls are never concurrent: the host runs one call at a time per instance.
package wasmplug

import (
	"errors"
	"strconv"
	"unsafe"
)

// Level is a log level of the host's log (docs/abi.md).
type Level uint32

// Log levels.
const (
	Trace Level = 0
	Debug Level = 1
	Info  Level = 2
	Warn  Level = 3
	Error Level = 4
)

// ErrDrop, returned by a transform, drops the input (no output record).
var ErrDrop = errors.New("wasmplug: drop")

//go:wasmimport wasmplug log
func hostLog(level uint32, ptr unsafe.Pointer, length uint32)

//go:wasmimport wasmplug fail
func hostFail(ptr unsafe.Pointer, length uint32)

// Log sends one line to the host's log at `level`. The host caps its length
// and the number of lines per call.
func Log(level Level, msg string) {
	hostLog(uint32(level), unsafe.Pointer(unsafe.StringData(msg)), uint32(len(msg)))
}

// Fail ends the current call with a GuestError carrying msg. It does not return.
func Fail(msg string) {
	if msg == "" {
		msg = "failed"
	}
	hostFail(unsafe.Pointer(unsafe.StringData(msg)), uint32(len(msg)))
	panic("unreachable: wasmplug.fail returned")
}

//go:wasmexport wasmplug_abi_version_1
func abiVersion1() {}

// Buffers handed to the host by wp_alloc, by address: referenced here so the
// collector keeps them until the hook (or wp_init) that receives them takes
// them over with TakeInput.
var allocations = map[uint32][]byte{}

//go:wasmexport wp_alloc
func wpAlloc(length, align uint32) uint32 {
	if align == 0 || align&(align-1) != 0 || align > 65536 {
		return 0
	}
	buf := make([]byte, int(length)+int(align))
	base := uint32(uintptr(unsafe.Pointer(unsafe.SliceData(buf))))
	offset := (align - base%align) % align
	aligned := buf[offset : offset+length : offset+length]
	ptr := base + offset
	allocations[ptr] = aligned
	return ptr
}

//go:wasmexport wp_free
func wpFree(ptr, length, align uint32) { delete(allocations, ptr) }

// TakeInput returns the buffer the host wrote at (ptr, length) through
// wp_alloc and takes it over (for the hook packages). (0, 0) is an empty
// input.
func TakeInput(ptr, length uint32) []byte {
	if length == 0 {
		return []byte{}
	}
	buf, ok := allocations[ptr]
	if !ok || uint32(len(buf)) < length {
		Fail("wasmplug: input (" + strconv.FormatUint(uint64(ptr), 10) + ", " + strconv.FormatUint(uint64(length), 10) +
			") was not allocated by wp_alloc")
	}
	delete(allocations, ptr)
	return buf[:length]
}

var (
	emptyOutput [1]byte
	// The last output handed to the host: valid until the next call.
	lastOutput []byte
)

// PackOutput keeps out alive until the next call and returns the
// wp_transform result for it (for the transform package).
func PackOutput(out []byte) uint64 {
	if len(out) == 0 {
		lastOutput = nil
		return uint64(uintptr(unsafe.Pointer(&emptyOutput[0]))) << 32
	}
	lastOutput = out
	ptr := uint64(uintptr(unsafe.Pointer(unsafe.SliceData(out))))
	return ptr<<32 | uint64(len(out))
}

// Drop is the wp_transform result that drops the input.
const Drop uint64 = 0

var (
	config     []byte
	initFn     func(config []byte) error
	shutdownFn func() error
)

// Init registers fn to receive the plugin's config once per instance, before
// any hook. An error rejects the config: it is logged and the instance is
// not used.
func Init(fn func(config []byte) error) { initFn = fn }

// Shutdown registers fn to run when a reused (warm) instance is retired.
func Shutdown(fn func() error) { shutdownFn = fn }

// Config returns the config bytes the host passed to this instance.
func Config() []byte { return config }

//go:wasmexport wp_init
func wpInit(ptr, length uint32) int32 {
	config = TakeInput(ptr, length)
	if initFn == nil {
		return 0
	}
	if err := initFn(config); err != nil {
		Log(Error, err.Error())
		return 1
	}
	return 0
}

//go:wasmexport wp_shutdown
func wpShutdown() int32 {
	if shutdownFn == nil {
		return 0
	}
	if err := shutdownFn(); err != nil {
		Log(Error, "shutdown: "+err.Error())
		return 1
	}
	return 0
}
