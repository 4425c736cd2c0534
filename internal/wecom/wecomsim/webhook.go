package wecomsim

import (
	"slices"
	"time"
)

// Robot rate limit (§8): ≤20 messages per minute per robot. The window is
// sliding (the last 60 s on the simulator clock; fixed vs sliding is
// unconfirmed) and only accepted messages count. The over-limit code is
// 45009 (widely reported, unconfirmed on the official page).
const (
	robotMsgPerMinute = 20
	robotWindow       = time.Minute
)

// handleWebhookSend implements POST webhook/send?key=KEY. The key was
// already resolved (93000 unknown/missing, 93004 disabled).
func handleWebhookSend(s *Sim, c *call) reply {
	if s.robotRateLimited(c.robot.Key, c.now) {
		return failf(codeFreqLimit, "robot %q: more than %d messages/min", c.robot.Name, robotMsgPerMinute)
	}
	var req msgBody
	if e := c.decode(&req); e != nil {
		return failErr(e)
	}
	if e := validateBody(&req, chanWebhook); e != nil {
		return failErr(e)
	}
	s.robotSends[c.robot.Key] = append(s.robotSends[c.robot.Key], c.now)
	s.recordMessage(&Message{Time: c.now, Channel: chanWebhook, Robot: c.robot.Name, ChatName: c.robot.ChatName,
		MsgType: req.MsgType.v, Body: slices.Clone(c.body)})
	return ok(nil)
}

func (s *Sim) robotRateLimited(key string, now time.Time) bool {
	hist := s.robotSends[key]
	keep := 0
	for keep < len(hist) && !hist[keep].After(now.Add(-robotWindow)) {
		keep++
	}
	hist = hist[keep:]
	s.robotSends[key] = hist
	return len(hist) >= robotMsgPerMinute
}
