package controller

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strings"
)

// parseWebhook reads a group robot Secret value: a bare key, or a whole webhook URL such as
// https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=KEY. For a URL it returns the base
// URL (scheme, host and any path prefix before /cgi-bin/) and the key; for a bare key the
// base is empty. The value is a credential: callers never print it.
func parseWebhook(value string) (base, key string, ok bool) {
	v := strings.TrimSpace(value)
	if strings.Contains(v, "://") {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return "", "", false
		}
		key = u.Query().Get("key")
		if key == "" {
			return "", "", false
		}
		prefix := ""
		if i := strings.Index(u.Path, "/cgi-bin/"); i >= 0 {
			prefix = u.Path[:i]
		}
		return u.Scheme + "://" + u.Host + prefix, key, true
	}
	if v == "" || strings.ContainsAny(v, " \t\r\n/?&=#") {
		return "", "", false
	}
	return "", v, true
}

// webhookHost is the scheme and host of a webhook base URL, for messages: the path is left
// out because it comes from a Secret.
func webhookHost(base string) string {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return "a URL that does not parse"
	}
	return u.Scheme + "://" + u.Host
}

// robotID names a robot for the pacer without revealing its key.
func robotID(base, key string) string {
	sum := sha256.Sum256([]byte(base + "|" + key))
	return hex.EncodeToString(sum[:8])
}
