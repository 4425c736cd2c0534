// Package notify is the pure part of Notification delivery: rendering a Notification's
// message into the JSON bodies WeCom takes, cutting content to WeCom's size limits, and
// pacing sends so that WeCom's per-member and per-robot quotas are never crossed. Nothing
// here talks to Kubernetes or to WeCom.
package notify

import (
	"strings"
	"unicode/utf8"
)

// Content limits in bytes of UTF-8 (reference §7, §8). WeCom cuts or refuses longer content;
// the operator cuts it itself so the cut is visible and lands on a line boundary.
const (
	AppTextLimit       = 2048 // message/send and appchat/send text.content
	AppMarkdownLimit   = 2048 // message/send and appchat/send markdown.content
	RobotTextLimit     = 2048 // webhook/send text.content
	RobotMarkdownLimit = 4096 // webhook/send markdown.content
)

// TruncationMarker ends content that was cut. It starts a line of its own.
const TruncationMarker = "\n…(truncated)"

// Truncate returns s if it fits in limit bytes. Otherwise it cuts s at the last line break
// that keeps the result and TruncationMarker within limit, and appends the marker. When that
// would throw away more than half of the room (one very long line), it cuts at the last
// UTF-8 character boundary instead. The result is always valid UTF-8 if s is.
func Truncate(s string, limit int) (string, bool) {
	if len(s) <= limit {
		return s, false
	}
	room := limit - len(TruncationMarker)
	if room <= 0 {
		return "", true
	}
	cut := room
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	head := s[:cut]
	if i := strings.LastIndexByte(head, '\n'); i >= room/2 {
		head = head[:i]
	}
	head = strings.TrimRight(head, " \t\r\n")
	return head + TruncationMarker, true
}
