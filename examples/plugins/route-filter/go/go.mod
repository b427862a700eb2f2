module wasmplug.dev/examples/route-filter

go 1.24

require wasmplug.dev/wasmplug v0.0.0

replace wasmplug.dev/wasmplug => ../../../../sdk/go
