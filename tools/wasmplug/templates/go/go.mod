module {{name}}

go 1.24

require wasmplug.dev/wasmplug v0.0.0

// The wasmplug Go SDK (sdk/go in the wasmplug sources or its install prefix).
replace wasmplug.dev/wasmplug => {{go_sdk_dir}}
