// redact (Go) — the same plugin as ../redact.c: masks credit-card-like digit
// runs and e-mail addresses inside JSON string values (keys are left alone).
// Transform hook, one JSON value per call.
//
//	{"user":"ann@example.com","card":"4111 1111 1111 1111"}
//	-> {"user":"[email]","card":"************1111"}
//
// A digit run of 13..19 digits (spaces and dashes between digits allowed)
// keeps its last four digits. An e-mail is local@domain.tld. Anything else
// passes through byte for byte: this plugin only ever removes information.
package main

import (
	"wasmplug.dev/wasmplug/transform"
)

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isEmailChar(c byte) bool {
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || isDigit(c) || c == '.' || c == '_' ||
		c == '-' || c == '+'
}

// cardRun is the length of a card-like run starting at s[0] (a digit), or 0,
// and the digits in it.
func cardRun(s []byte) (int, int) {
	i, digits, end := 0, 0, 0
	for i < len(s) {
		if isDigit(s[i]) {
			digits++
			i++
			end = i
		} else if (s[i] == ' ' || s[i] == '-') && i+1 < len(s) && isDigit(s[i+1]) {
			i++
		} else {
			break
		}
	}
	if digits >= 13 && digits <= 19 {
		return end, digits
	}
	return 0, digits
}

// emailLen is the length of an e-mail at s[0], or 0.
func emailLen(s []byte) int {
	n := len(s)
	at := 0
	for at < n && isEmailChar(s[at]) && s[at] != '.' {
		at++
	}
	for at < n && isEmailChar(s[at]) {
		at++
	}
	if at == 0 || at >= n || s[at] != '@' {
		return 0
	}
	i, dot := at+1, 0
	for i < n && isEmailChar(s[i]) && s[i] != '+' && s[i] != '_' {
		if s[i] == '.' {
			dot = i
		}
		i++
	}
	for i > at+1 && s[i-1] == '.' { // a trailing dot ends the sentence
		i--
	}
	if dot > at+1 && dot+2 < i+1 && i-dot >= 3 {
		return i
	}
	return 0
}

// redactString appends the string body s (without quotes) with redactions.
func redactString(s []byte, out []byte) []byte {
	i := 0
	for i < len(s) {
		if s[i] == '\\' && i+1 < len(s) { // keep escapes intact
			out = append(out, s[i:i+2]...)
			i += 2
			continue
		}
		boundary := i == 0 || !isEmailChar(s[i-1])
		if boundary && isDigit(s[i]) {
			if run, digits := cardRun(s[i:]); run > 0 {
				seen := 0
				for k := 0; k < run; k++ {
					if !isDigit(s[i+k]) {
						continue
					}
					seen++
					if seen+4 > digits {
						out = append(out, s[i+k])
					} else {
						out = append(out, '*')
					}
				}
				i += run
				continue
			}
		}
		if boundary {
			if mail := emailLen(s[i:]); mail > 0 {
				out = append(out, "[email]"...)
				i += mail
				continue
			}
		}
		out = append(out, s[i])
		i++
	}
	return out
}

func redact(in []byte) ([]byte, error) {
	out := make([]byte, 0, len(in)+16)
	i := 0
	for i < len(in) {
		if in[i] != '"' {
			out = append(out, in[i])
			i++
			continue
		}
		end := i + 1
		for end < len(in) && in[end] != '"' {
			if in[end] == '\\' {
				end += 2
			} else {
				end++
			}
		}
		if end >= len(in) { // unterminated string: copy the rest unchanged
			out = append(out, in[i:]...)
			break
		}
		next := end + 1
		for next < len(in) && (in[next] == ' ' || in[next] == '\t') {
			next++
		}
		isKey := next < len(in) && in[next] == ':'
		out = append(out, '"')
		if isKey {
			out = append(out, in[i+1:end]...)
		} else {
			out = redactString(in[i+1:end], out)
		}
		out = append(out, '"')
		i = end + 1
	}
	return out, nil
}

func init() { transform.Handle(redact) }

func main() {}
