module {{name}}

go 1.24

require wasmplug.dev/wasmplug v0.0.0
