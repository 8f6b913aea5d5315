// ConnectionConfig and ParseUrl: every accepted URL form, and every malformed one refused with
// ClientError::kInvalidUrl.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <string_view>

#include "keyward/client/config.h"
#include "keyward/client/error.h"

namespace keyward::client {
namespace {

using Transport = ConnectionConfig::Transport;

ConnectionConfig Parse(std::string_view url) {
  auto config = ParseUrl(url);
  EXPECT_TRUE(config) << url << ": " << config.error().message();
  return config ? *config : ConnectionConfig{};
}

TEST(ClientConfigTest, Defaults) {
  ConnectionConfig c;
  EXPECT_EQ(c.transport, Transport::kTcp);
  EXPECT_EQ(c.host, "127.0.0.1");
  EXPECT_EQ(c.port, 6379);
  EXPECT_EQ(c.path, "");
  EXPECT_FALSE(c.tls);
  EXPECT_EQ(c.user, "");
  EXPECT_EQ(c.password, "");
  EXPECT_EQ(c.db, 0);
  EXPECT_EQ(c.client_name, "");
  EXPECT_EQ(c.connect_timeout, std::chrono::milliseconds(5000));
  EXPECT_EQ(c.command_timeout, std::chrono::milliseconds(0));
}

TEST(ClientConfigTest, HostOnly) {
  ConnectionConfig c = Parse("redis://cache.example.com");
  EXPECT_EQ(c.transport, Transport::kTcp);
  EXPECT_EQ(c.host, "cache.example.com");
  EXPECT_EQ(c.port, 6379);
  EXPECT_EQ(c.db, 0);
  EXPECT_FALSE(c.tls);
  EXPECT_EQ(c.user, "");
  EXPECT_EQ(c.password, "");
  // Fields the URL cannot express keep their defaults.
  EXPECT_EQ(c.connect_timeout, ConnectionConfig{}.connect_timeout);
  EXPECT_EQ(c.client_name, "");
}

TEST(ClientConfigTest, HostPortDb) {
  ConnectionConfig c = Parse("redis://10.0.0.5:6380/3");
  EXPECT_EQ(c.host, "10.0.0.5");
  EXPECT_EQ(c.port, 6380);
  EXPECT_EQ(c.db, 3);
}

TEST(ClientConfigTest, TrailingSlashMeansDbZero) {
  ConnectionConfig c = Parse("redis://host:1/");
  EXPECT_EQ(c.host, "host");
  EXPECT_EQ(c.port, 1);
  EXPECT_EQ(c.db, 0);
}

TEST(ClientConfigTest, PortAndDbLimits) {
  EXPECT_EQ(Parse("redis://h:65535").port, 65535);
  EXPECT_EQ(Parse("redis://h/2147483647").db, 2147483647);
  EXPECT_EQ(Parse("redis://h:007/00").port, 7);
}

TEST(ClientConfigTest, UserAndPassword) {
  ConnectionConfig c = Parse("redis://alice:s3cret@host:7000/1");
  EXPECT_EQ(c.user, "alice");
  EXPECT_EQ(c.password, "s3cret");
  EXPECT_EQ(c.host, "host");
  EXPECT_EQ(c.port, 7000);
  EXPECT_EQ(c.db, 1);
}

TEST(ClientConfigTest, PasswordOnlyUsesDefaultUser) {
  ConnectionConfig c = Parse("redis://:s3cret@host");
  EXPECT_EQ(c.user, "default");
  EXPECT_EQ(c.password, "s3cret");
}

TEST(ClientConfigTest, UserWithEmptyPassword) {
  ConnectionConfig c = Parse("redis://alice:@host");
  EXPECT_EQ(c.user, "alice");
  EXPECT_EQ(c.password, "");
}

TEST(ClientConfigTest, EmptyUserInfoMeansNoCredentials) {
  ConnectionConfig c = Parse("redis://:@host");
  EXPECT_EQ(c.user, "");
  EXPECT_EQ(c.password, "");
}

TEST(ClientConfigTest, PercentDecodingOfUserAndPassword) {
  ConnectionConfig c = Parse("redis://us%65r%3A1:p%40ss%2Fw%3a%25rd%00x@host");
  EXPECT_EQ(c.user, "user:1");
  EXPECT_EQ(c.password, std::string("p@ss/w:%rd\0x", 12));
  // '+' is not a space outside form encoding.
  EXPECT_EQ(Parse("redis://:a+b@h").password, "a+b");
}

TEST(ClientConfigTest, RawColonAndAtInPassword) {
  // The password starts after the first ':' and the user info ends at the last '@'.
  ConnectionConfig c = Parse("redis://u:pa:ss@wo@host:1");
  EXPECT_EQ(c.user, "u");
  EXPECT_EQ(c.password, "pa:ss@wo");
  EXPECT_EQ(c.host, "host");
  EXPECT_EQ(c.port, 1);
}

TEST(ClientConfigTest, Tls) {
  ConnectionConfig c = Parse("rediss://:pw@secure.example.com:6380/2");
  EXPECT_TRUE(c.tls);
  EXPECT_EQ(c.transport, Transport::kTcp);
  EXPECT_EQ(c.host, "secure.example.com");
  EXPECT_EQ(c.port, 6380);
  EXPECT_EQ(c.db, 2);
  EXPECT_EQ(c.user, "default");
  EXPECT_EQ(Parse("rediss://h").port, 6379);
}

TEST(ClientConfigTest, SchemeIsCaseInsensitive) {
  EXPECT_FALSE(Parse("REDIS://h").tls);
  EXPECT_TRUE(Parse("RedisS://h").tls);
  EXPECT_EQ(Parse("UNIX:///s.sock").transport, Transport::kUnix);
}

TEST(ClientConfigTest, HostNameCharacters) {
  EXPECT_EQ(Parse("redis://my-cache_1.local").host, "my-cache_1.local");
  EXPECT_EQ(Parse("redis://LOCALHOST").host, "LOCALHOST");
}

TEST(ClientConfigTest, Ipv6) {
  ConnectionConfig c = Parse("redis://[::1]:6380/4");
  EXPECT_EQ(c.host, "::1");
  EXPECT_EQ(c.port, 6380);
  EXPECT_EQ(c.db, 4);
  EXPECT_EQ(Parse("redis://[2001:db8::a:B]").host, "2001:db8::a:B");
  EXPECT_EQ(Parse("redis://[2001:db8::a:B]").port, 6379);
  EXPECT_EQ(Parse("redis://:pw@[::ffff:10.0.0.1]/1").host, "::ffff:10.0.0.1");
}

TEST(ClientConfigTest, UnixSocket) {
  ConnectionConfig c = Parse("unix:///var/run/redis/redis.sock");
  EXPECT_EQ(c.transport, Transport::kUnix);
  EXPECT_EQ(c.path, "/var/run/redis/redis.sock");
  EXPECT_EQ(c.db, 0);
  EXPECT_EQ(c.user, "");
  EXPECT_FALSE(c.tls);
}

TEST(ClientConfigTest, UnixSocketWithCredentialsAndDb) {
  ConnectionConfig c = Parse("unix://bob:p%2Fw@/tmp/k.sock?db=5");
  EXPECT_EQ(c.transport, Transport::kUnix);
  EXPECT_EQ(c.path, "/tmp/k.sock");
  EXPECT_EQ(c.user, "bob");
  EXPECT_EQ(c.password, "p/w");
  EXPECT_EQ(c.db, 5);

  ConnectionConfig p = Parse("unix://:pw@/tmp/k.sock");
  EXPECT_EQ(p.user, "default");
  EXPECT_EQ(p.password, "pw");
}

TEST(ClientConfigTest, UnixPathIsPercentDecodedAndMayHoldAt) {
  EXPECT_EQ(Parse("unix:///tmp/a%20b%3Fc.sock").path, "/tmp/a b?c.sock");
  EXPECT_EQ(Parse("unix:///tmp/a@b.sock").path, "/tmp/a@b.sock");
  EXPECT_EQ(Parse("unix:///tmp/a@b.sock").user, "");
}

TEST(ClientConfigTest, MalformedUrlsAreRefused) {
  const char* cases[] = {
      // scheme
      "",
      "redis",
      "redis:/host",
      "http://host",
      "redis+tls://host",
      "://host",
      // user info
      "redis://secret@host",  // no ':': password or user? refused, not guessed
      "redis://@host",
      "redis://us%zzer:pw@host",
      "redis://:pw%4@host",
      "redis://:pw%@host",
      // host
      "redis://",
      "redis:///0",
      "redis://:6379",
      "redis://:pw@",
      "redis://ho st",
      "redis://host#frag",
      "redis://ho$t",
      "redis://::1",
      "redis://::1:6379",
      // IPv6
      "redis://[::1",
      "redis://[]",
      "redis://[localhost]",
      "redis://[1234]",
      "redis://[::1]6379",
      "redis://[::1]:",
      "redis://[::1]:x",
      "redis://[::g]",
      "redis://[fe80::1%25eth0]",
      // port
      "redis://host:",
      "redis://host:0",
      "redis://host:65536",
      "redis://host:99999999999999999999",
      "redis://host:-1",
      "redis://host:+1",
      "redis://host:6379x",
      "redis://host:63 79",
      "redis://host:1:2",
      // db and path
      "redis://host/x",
      "redis://host/-1",
      "redis://host/+1",
      "redis://host/1/",
      "redis://host/1/2",
      "redis://host//1",
      "redis://host/2147483648",
      "redis://host/1?db=2",
      "redis://host?db=2",
      "redis://host/ 1",
      // unix
      "unix://",
      "unix://tmp/x.sock",
      "unix://relative.sock",
      "unix://secret@/tmp/x.sock",
      "unix://@/tmp/x.sock",
      "unix://:pw/tmp/x.sock",
      "unix:///tmp/x%2.sock",
      "unix:///tmp/x%00y.sock",
      "unix:///tmp/x.sock?",
      "unix:///tmp/x.sock?db=",
      "unix:///tmp/x.sock?db=x",
      "unix:///tmp/x.sock?db=-1",
      "unix:///tmp/x.sock?db=1&db=2",
      "unix:///tmp/x.sock?timeout=1",
      "unix:///tmp/x.sock#frag",
      "unix:///tmp/x.sock?db=2147483648",
  };
  for (const char* url : cases) {
    auto config = ParseUrl(url);
    EXPECT_FALSE(config) << url;
    EXPECT_EQ(config.error(), ClientError::kInvalidUrl) << url;
  }
}

TEST(ClientConfigTest, SentinelGroup) {
  auto c = Parse("redis+sentinel://s1:26380,10.0.0.2,[::1]:26381/mymaster");
  ASSERT_EQ(c.sentinels.size(), 3u);
  EXPECT_EQ(c.sentinels[0].host, "s1");
  EXPECT_EQ(c.sentinels[0].port, 26380);
  EXPECT_EQ(c.sentinels[1].host, "10.0.0.2");
  EXPECT_EQ(c.sentinels[1].port, 26379);  // the sentinel's default port
  EXPECT_EQ(c.sentinels[2].host, "::1");
  EXPECT_EQ(c.sentinels[2].port, 26381);
  EXPECT_EQ(c.sentinel_master, "mymaster");
  EXPECT_EQ(c.db, 0);
  EXPECT_EQ(c.user, "");
  // Credentials and the db are the master's; the name is percent-decoded.
  c = Parse("REDIS+SENTINEL://:s%40cret@127.0.0.1:26379/my%2Fgroup/3");
  ASSERT_EQ(c.sentinels.size(), 1u);
  EXPECT_EQ(c.sentinel_master, "my/group");
  EXPECT_EQ(c.password, "s@cret");
  EXPECT_EQ(c.user, "default");
  EXPECT_EQ(c.db, 3);
  // A plain redis:// URL names no sentinel.
  EXPECT_TRUE(Parse("redis://h:1").sentinels.empty());
  for (const char* url :
       {"redis+sentinel://h:26379", "redis+sentinel://h:26379/", "redis+sentinel:///m",
        "redis+sentinel://h:0/m", "redis+sentinel://h,,g/m", "redis+sentinel://h:26379/m/x",
        "redis+sentinel://h:26379/m?db=1", "redis+sentinel://h/m#x"}) {
    auto config = ParseUrl(url);
    EXPECT_FALSE(config) << url;
    EXPECT_EQ(config.error(), ClientError::kInvalidUrl) << url;
  }
}

TEST(ClientConfigTest, InvalidUrlHasItsOwnMessage) {
  std::error_code ec = ClientError::kInvalidUrl;
  EXPECT_EQ(ec.category(), ClientCategory());
  EXPECT_EQ(ec.message(), "invalid connection URL");
}

}  // namespace
}  // namespace keyward::client
