// Package netguard refuses network connections to addresses that are not
// public: loopback, private (RFC 1918), shared (CGNAT), link-local, unique
// local, multicast, broadcast, unspecified, documentation, benchmarking and
// other special-purpose ranges.
//
// The check runs when a connection is dialled, on the address actually being
// connected to (install [Control] as a [net.Dialer]'s Control function), so a
// host name that resolves to a public address when validated and to a
// private one when dialled (DNS rebinding) is still refused.
//
// IPv4-mapped IPv6 addresses (::ffff:10.0.0.1), NAT64 (64:ff9b::/96) and
// 6to4 (2002::/16) addresses are judged by the IPv4 address they embed.
//
// The package is shared by the sender and the CLI; it has no state and is
// safe for concurrent use.
package netguard
