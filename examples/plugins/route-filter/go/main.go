// route-filter (Go) — the same plugin as ../route_filter.c: keeps events whose
// "level" is at or above a configured level.
//
// Config (wp_init): one of trace, debug, info, warn, error, fatal (default
// info). Any other config is rejected with a log line naming the allowed
// values. Events without a known "level" string are dropped. Input that is
// not a JSON object fails the call.
package main

import (
	"bytes"
	"errors"

	"wasmplug.dev/wasmplug"
	"wasmplug.dev/wasmplug/filter"
)

var levels = []string{"trace", "debug", "info", "warn", "error", "fatal"}

var threshold = 2 // info

func levelOf(text []byte) int {
	for i, l := range levels {
		if string(text) == l {
			return i
		}
	}
	return -1
}

func configure(cfg []byte) error {
	cfg = bytes.TrimRight(cfg, "\n ")
	if len(cfg) == 0 {
		return nil
	}
	level := levelOf(cfg)
	if level < 0 {
		return errors.New("route-filter: config must be one of trace, debug, info, warn, error, fatal")
	}
	threshold = level
	return nil
}

func keep(in []byte) (bool, error) {
	value, found, ok := findKey(in, "level")
	if !ok {
		return false, errors.New("route-filter: the record is not a JSON object")
	}
	if !found || len(value) < 2 || value[0] != '"' {
		return false, nil
	}
	return levelOf(value[1:len(value)-1]) >= threshold, nil
}

func init() {
	wasmplug.Init(configure)
	filter.Handle(keep)
}

func main() {}
