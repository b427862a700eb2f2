module wasmplug.dev/wasmplug

go 1.24
