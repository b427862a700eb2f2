package main

// A small scanner for the top level of a JSON object (the Go twin of
// ../../common/json_scan.h): finds a key's value token without building a
// tree; numbers and escapes are skipped, not validated.

func skipWS(in []byte, i int) int {
	for i < len(in) && (in[i] == ' ' || in[i] == '\t' || in[i] == '\n' || in[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index just past the string at in[i] == '"', or 0.
func skipString(in []byte, i int) int {
	for i++; i < len(in); i++ {
		if in[i] == '\\' {
			i++
		} else if in[i] == '"' {
			return i + 1
		}
	}
	return 0
}

// skipValue returns the index just past the value at in[i], or 0.
func skipValue(in []byte, i int) int {
	if i >= len(in) {
		return 0
	}
	if in[i] == '"' {
		return skipString(in, i)
	}
	if in[i] == '{' || in[i] == '[' {
		depth := 0
		for i < len(in) {
			if in[i] == '"' {
				if i = skipString(in, i); i == 0 {
					return 0
				}
				continue
			}
			if in[i] == '{' || in[i] == '[' {
				depth++
			}
			if in[i] == '}' || in[i] == ']' {
				if depth--; depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return 0
	}
	start := i
	for i < len(in) && in[i] != ',' && in[i] != '}' && in[i] != ']' && in[i] != ' ' && in[i] != '\n' {
		i++
	}
	if i > start {
		return i
	}
	return 0
}

// findKey finds top-level `key` in the object `in`: its value token (strings
// keep their quotes), whether it was found, and ok=false when `in` is not a
// JSON object.
func findKey(in []byte, key string) (value []byte, found bool, ok bool) {
	i := skipWS(in, 0)
	if i >= len(in) || in[i] != '{' {
		return nil, false, false
	}
	i = skipWS(in, i+1)
	if i < len(in) && in[i] == '}' {
		return nil, false, true
	}
	for i < len(in) {
		if in[i] != '"' {
			return nil, false, false
		}
		keyEnd := skipString(in, i)
		if keyEnd == 0 {
			return nil, false, false
		}
		match := !found && string(in[i+1:keyEnd-1]) == key
		i = skipWS(in, keyEnd)
		if i >= len(in) || in[i] != ':' {
			return nil, false, false
		}
		i = skipWS(in, i+1)
		end := skipValue(in, i)
		if end == 0 {
			return nil, false, false
		}
		if match {
			value, found = in[i:end], true
		}
		i = skipWS(in, end)
		if i < len(in) && in[i] == ',' {
			i = skipWS(in, i+1)
			continue
		}
		if i < len(in) && in[i] == '}' {
			return value, found, true
		}
		return nil, false, false
	}
	return nil, false, false
}
