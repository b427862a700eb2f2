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
	"strconv"

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
	text, ascii := unescapeASCII(value[1 : len(value)-1])
	return ascii && levelOf(text) >= threshold, nil
}

// unescapeASCII decodes a JSON string body if it is all ASCII (`w\u0061rn`
// is `warn`), as the C, Rust and AssemblyScript versions do; ok is false
// otherwise, which never equals a level name.
func unescapeASCII(s []byte) (out []byte, ok bool) {
	out = make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			return nil, false
		}
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		if i >= len(s) {
			return nil, false
		}
		switch e := s[i]; e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, 8)
		case 'f':
			out = append(out, 12)
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			if i+4 >= len(s) {
				return nil, false
			}
			v, err := strconv.ParseUint(string(s[i+1:i+5]), 16, 16)
			if err != nil || v >= 0x80 {
				return nil, false
			}
			out = append(out, byte(v))
			i += 4
		default:
			return nil, false
		}
	}
	return out, true
}

func init() {
	wasmplug.Init(configure)
	filter.Handle(keep)
}

func main() {}
