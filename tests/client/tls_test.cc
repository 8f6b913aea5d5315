// TLS against keyward-server and redis-server, with certificates the openssl command makes for
// each test: trusted and untrusted CAs, host name verification, verification
// turned off, a missing CA file and a plain client on the TLS port. The synchronous Client and
// AsyncClient are checked alike.
#include <gmock/gmock.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "async_test_support.h"
#include "client_test_support.h"
#include "keyward/client/async_client.h"
#include "keyward/client/client.h"

namespace keyward::testing {
namespace {

using client::AsyncClient;
using client::Client;
using client::ClientError;
using client::ClientOptions;

// ---- 10. TLS ----

bool OpensslAvailable() { return std::system("command -v openssl >/dev/null 2>&1") == 0; }

// Makes, in `dir`: ca.crt (a test CA), server.crt / server.key (signed by it, for IP 127.0.0.1
// and DNS localhost) and other-ca.crt (an unrelated CA). EC keys: they take milliseconds.
bool MakeCertificates(const std::string& dir) {
  const std::string key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  const std::string script =
      "cd '" + dir + "' && (" +  //
      "openssl req -x509 " + key +
      " -keyout ca.key -out ca.crt -days 2 "  //
      "-subj '/CN=Keyward Test CA' && "       //
      "openssl req -x509 " +
      key +
      " -keyout other-ca.key -out other-ca.crt -days 2 "  //
      "-subj '/CN=Some Other CA' && "                     //
      "openssl req " +
      key +
      " -keyout server.key -out server.csr -subj '/CN=localhost' && "
      "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > san.cnf && "
      "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial "
      "-out server.crt -days 2 -extfile san.cnf) > openssl.log 2>&1";
  return std::system(script.c_str()) == 0;
}

// A server with both a plain port (for ServerProcess's readiness probe and RawCommand) and a
// TLS port that does not ask for client certificates.
class TlsTest : public ServerTest {
 protected:
  void SetUp() override {
    ASSERT_TRUE(OpensslAvailable()) << "the openssl command is required (install-deps has it)";
    char dir[] = "/tmp/keyward-tls-test-XXXXXX";
    ASSERT_TRUE(::mkdtemp(dir));
    certs_ = dir;
    ASSERT_TRUE(MakeCertificates(certs_)) << "openssl failed; see " << certs_ << "/openssl.log";
    tls_port_ = FreePort();
    ServerTest::SetUp();
  }

  ~TlsTest() override {
    if (!certs_.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(certs_, ignored);
    }
  }

  std::vector<std::string> ServerArgs() override {
    return {"--tls-port",         std::to_string(tls_port_),
            "--tls-cert-file",    certs_ + "/server.crt",
            "--tls-key-file",     certs_ + "/server.key",
            "--tls-ca-cert-file", certs_ + "/ca.crt",
            "--tls-auth-clients", "no"};
  }

  // rediss:// to the TLS port, trusting `ca` ("ca.crt" or "other-ca.crt"), one attempt only so
  // that a failure is reported rather than retried.
  ClientOptions TlsOptions(const std::string& ca, const std::string& host = "127.0.0.1") {
    auto options = client::OptionsFromUrl("rediss://" + host + ":" + std::to_string(tls_port_));
    EXPECT_TRUE(options);
    options->connection.connect_timeout = std::chrono::seconds(10);
    options->connection.tls_options.ca_file = certs_ + "/" + ca;
    options->reconnect.enabled = false;
    return *options;
  }

  std::string certs_;
  uint16_t tls_port_ = 0;
};

TEST_P(TlsTest, PingOverTlsWithTheRightCa) {
  {
    Client client(TlsOptions("ca.crt"));
    auto pong = client.Command("PING");
    ASSERT_TRUE(pong) << pong.error().message();
    EXPECT_EQ(pong->as_string().value(), "PONG");
    ASSERT_TRUE(client.Command("SET", "over-tls", "yes"));
  }
  EventLoop loop;
  AsyncClient client(loop.executor(), TlsOptions("ca.crt"));
  auto got = loop.Await(client.Command("GET", "over-tls"));
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(got->as_string().value(), "yes");
  // Really TLS: the plain port's view of the connection says so.
  EXPECT_EQ(server().RawCommand({"GET", "over-tls"}).as_string().value(), "yes");
}

TEST_P(TlsTest, HostNameIsVerifiedAgainstTheCertificate) {
  // "localhost" is in the certificate's DNS names.
  Client by_name(TlsOptions("ca.crt", "localhost"));
  auto pong = by_name.Command("PING");
  ASSERT_TRUE(pong) << pong.error().message();
  // A name the certificate does not carry.
  ClientOptions options = TlsOptions("ca.crt");
  options.connection.tls_options.server_name = "wrong.example";
  Client mismatched(options);
  std::error_code error = mismatched.Connect();
  EXPECT_TRUE(error);
  EXPECT_THAT(mismatched.error_detail(), ::testing::HasSubstr("hostname mismatch"));
  EXPECT_NE(error, ClientError::kTimeout) << "a refused certificate must fail, not hang";
  EventLoop loop;
  AsyncClient async(loop.executor(), options);
  std::error_code async_error = loop.Await(async.Connect());
  EXPECT_TRUE(async_error);
  EXPECT_NE(async_error, ClientError::kTimeout);
}

TEST_P(TlsTest, UntrustedCertificateFailsToConnect) {
  Client client(TlsOptions("other-ca.crt"));
  std::error_code error = client.Connect();
  EXPECT_TRUE(error);
  EXPECT_NE(error, ClientError::kTimeout) << "a refused certificate must fail, not hang";
  EXPECT_THAT(client.error_detail(), ::testing::HasSubstr("certificate verification failed"));
  auto command = client.Command("PING");
  EXPECT_FALSE(command);
  EventLoop loop;
  AsyncClient async(loop.executor(), TlsOptions("other-ca.crt"));
  std::error_code async_error = loop.Await(async.Connect());
  EXPECT_TRUE(async_error);
  EXPECT_NE(async_error, ClientError::kTimeout);
}

TEST_P(TlsTest, VerifyPeerOffAcceptsAnyCertificate) {
  ClientOptions options = TlsOptions("other-ca.crt");
  options.connection.tls_options.verify_peer = false;
  Client client(options);
  auto pong = client.Command("PING");
  ASSERT_TRUE(pong) << pong.error().message();
  EXPECT_EQ(pong->as_string().value(), "PONG");
  EventLoop loop;
  AsyncClient async(loop.executor(), options);
  auto async_pong = loop.Await(async.Command("PING"));
  ASSERT_TRUE(async_pong) << async_pong.error().message();
  EXPECT_EQ(async_pong->as_string().value(), "PONG");
}

TEST_P(TlsTest, MissingCaFileIsTlsUnavailable) {
  Client client(TlsOptions("no-such-ca.crt"));
  EXPECT_EQ(client.Connect(), ClientError::kTlsUnavailable);
  // The async client fails the same way, whether asked to connect or given a command (with
  // reconnection off, so that the first failure is final).
  EventLoop loop;
  AsyncClient connecting(loop.executor(), TlsOptions("no-such-ca.crt"));
  auto connected = loop.Spawn(connecting.Connect());
  if (loop.RunUntil([&] { return connected.done(); })) {
    EXPECT_EQ(connected.get(), ClientError::kTlsUnavailable);
  } else {
    ADD_FAILURE() << "Connect() hangs";
  }
  AsyncClient commanding(loop.executor(), TlsOptions("no-such-ca.crt"));
  auto command = loop.Spawn(commanding.Command("PING"));
  ASSERT_TRUE(loop.RunUntil([&] { return command.done(); })) << "the command hangs";
  ASSERT_FALSE(command.get());
  EXPECT_EQ(command.get().error(), ClientError::kTlsUnavailable);
}

TEST_P(TlsTest, PlainClientOnTheTlsPortFailsWithoutHanging) {
  ClientOptions options = TlsOptions("ca.crt");
  options.connection.tls = false;
  options.connection.connect_timeout = std::chrono::seconds(10);
  Client client(options);
  std::error_code error = client.Connect();
  EXPECT_TRUE(error);
  EXPECT_NE(error, ClientError::kTimeout) << "the server drops a non-TLS peer; no need to wait";
}

KEYWARD_INSTANTIATE_SERVER_TEST(TlsTest);

}  // namespace
}  // namespace keyward::testing
