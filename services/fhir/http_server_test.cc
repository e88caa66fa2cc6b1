#include "carehub/services/http_server.h"

#include <atomic>
#include <deque>
#include <functional>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "carehub/base/strings.h"
#include "gtest/gtest.h"
#include "services/fhir/internal/gzip.h"
#include "services/fhir/testing/http_client.h"

namespace carehub::services {
namespace {

using testing::TestHttpClient;

// Echoes what it was given, so tests can see what the server handed over.
class EchoHandler : public HttpHandler {
 public:
  void Handle(const HttpRequest& request, HttpResponse* response) override {
    response->content_type = "text/plain";
    if (request.target() == "/big") {
      response->body = std::string(5000, 'x');
      return;
    }
    response->body = absl::StrCat(Sv(request.method()), " ", Sv(request.target()), " accept=",
                                  Sv(request.header("accept")), " body=", Sv(request.body()));
  }
};

class HttpServerTest : public ::testing::Test {
 protected:
  void StartServer(HttpServerOptions options) {
    options.address = "127.0.0.1:0";
    options.access_log = false;
    server_ = std::make_unique<HttpServer>(&handler_, options);
    absl::StatusOr<int> port = server_->Start();
    ASSERT_TRUE(port.ok()) << port.status();
    port_ = *port;
  }
  void SetUp() override { StartServer({}); }

  EchoHandler handler_;
  std::unique_ptr<HttpServer> server_;
  int port_ = 0;
};

TEST_F(HttpServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  TestHttpClient client(port_);
  for (int i = 0; i < 3; ++i) {
    TestHttpClient::Response r = client.Send("GET", absl::StrCat("/x?i=", i), {{"Accept", "a/b"}});
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, absl::StrCat("GET /x?i=", i, " accept=a/b body="));
    EXPECT_TRUE(r.keep_alive);
    EXPECT_FALSE(r.header("date").empty());
  }
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  TestHttpClient client(port_);
  client.WriteRaw("GET /one HTTP/1.1\r\nHost: h\r\n\r\nGET /two HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(client.Read(false).body, "GET /one accept= body=");
  EXPECT_EQ(client.Read(false).body, "GET /two accept= body=");
}

TEST_F(HttpServerTest, PostBodyAndExpectContinue) {
  TestHttpClient client(port_);
  TestHttpClient::Response r = client.Send("POST", "/p", {}, "a=1&b=2");
  EXPECT_EQ(r.body, "POST /p accept= body=a=1&b=2");
  client.WriteRaw("POST /q HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
  TestHttpClient::Response interim = client.Read(false);
  EXPECT_EQ(interim.status, 100);
  client.WriteRaw("xyz");
  EXPECT_EQ(client.Read(false).body, "POST /q accept= body=xyz");
}

TEST_F(HttpServerTest, HeadIsAGetWithoutBody) {
  TestHttpClient client(port_);
  TestHttpClient::Response r = client.Send("HEAD", "/h", {}, "", /*head=*/true);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(r.header("content-length"), std::to_string(std::string("GET /h accept= body=").size()));
  // The connection is still usable: no stray body bytes follow.
  EXPECT_EQ(client.Send("GET", "/after").body, "GET /after accept= body=");
}

TEST_F(HttpServerTest, OversizedRequestsGet414431And413AndAreClosed) {
  {
    TestHttpClient client(port_);
    TestHttpClient::Response r = client.Send("GET", "/" + std::string(9000, 'a'));
    EXPECT_EQ(r.status, 414);
    EXPECT_TRUE(client.ServerClosed());
  }
  {
    TestHttpClient client(port_);
    TestHttpClient::Response r =
        client.Send("GET", "/", {{"X-Big", std::string(17000, 'b')}});
    EXPECT_EQ(r.status, 431);
    EXPECT_TRUE(client.ServerClosed());
  }
  {
    // Many small fields add up too.
    TestHttpClient client(port_);
    std::vector<std::pair<std::string, std::string>> headers;
    for (int i = 0; i < 100; ++i) headers.emplace_back(absl::StrCat("X-F", i), std::string(200, 'c'));
    EXPECT_EQ(client.Send("GET", "/", headers).status, 431);
  }
  {
    TestHttpClient client(port_);
    TestHttpClient::Response r = client.Send("POST", "/", {}, std::string((1 << 20) + 1, 'd'));
    EXPECT_EQ(r.status, 413);
  }
}

TEST_F(HttpServerTest, MalformedRequestGets400) {
  TestHttpClient client(port_);
  TestHttpClient::Response r = client.SendRaw("GET / HTTP/1.1\r\nBad Header\r\n\r\n");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("malformed"), std::string::npos);
  EXPECT_TRUE(client.ServerClosed());
}

TEST_F(HttpServerTest, GzipOnlyWhenAcceptedAndLargeEnough) {
  TestHttpClient client(port_);
  TestHttpClient::Response plain = client.Send("GET", "/big");
  EXPECT_EQ(plain.header("content-encoding"), "");
  EXPECT_EQ(plain.body.size(), 5000u);
  TestHttpClient::Response zipped = client.Send("GET", "/big", {{"Accept-Encoding", "br, gzip;q=0.8"}});
  EXPECT_EQ(zipped.header("content-encoding"), "gzip");
  EXPECT_LT(zipped.body.size(), 200u);
  absl::StatusOr<std::string> unzipped = http_internal::Gunzip(zipped.body);
  ASSERT_TRUE(unzipped.ok());
  EXPECT_EQ(*unzipped, std::string(5000, 'x'));
  EXPECT_EQ(client.Send("GET", "/big", {{"Accept-Encoding", "gzip;q=0"}}).header("content-encoding"), "");
  // Small bodies are not worth it.
  EXPECT_EQ(client.Send("GET", "/s", {{"Accept-Encoding", "gzip"}}).header("content-encoding"), "");
}

TEST_F(HttpServerTest, ConnectionClosesAfterMaxRequests) {
  server_.reset();
  StartServer({.max_requests_per_connection = 2});
  TestHttpClient client(port_);
  EXPECT_TRUE(client.Send("GET", "/1").keep_alive);
  TestHttpClient::Response second = client.Send("GET", "/2");
  EXPECT_FALSE(second.keep_alive);
  EXPECT_TRUE(client.ServerClosed());
}

TEST_F(HttpServerTest, ConnectionsBeyondTheLimitAreClosed) {
  server_.reset();
  StartServer({.max_connections = 1});
  TestHttpClient first(port_);
  EXPECT_EQ(first.Send("GET", "/1").status, 200);
  TestHttpClient second(port_);
  EXPECT_TRUE(second.ServerClosed());
  EXPECT_EQ(first.Send("GET", "/2").status, 200);
}

TEST_F(HttpServerTest, StopClosesIdleConnections) {
  TestHttpClient client(port_);
  EXPECT_EQ(client.Send("GET", "/1").status, 200);
  server_->Stop(absl::Seconds(1));
  EXPECT_TRUE(client.ServerClosed());
}

// Holds every request's `done` until the test releases it, from the test's own thread (as the
// FHIR API's access log does from its completer thread).
class GatedHandler : public HttpHandler {
 public:
  void Handle(const HttpRequest&, HttpResponse*) override { ADD_FAILURE() << "Handle called"; }
  void HandleAsync(const HttpRequest& request, HttpResponse* response,
                   std::function<void()> done) override {
    response->content_type = "text/plain";
    response->body = std::string(request.target());
    absl::MutexLock lock(&mu_);
    pending_.push_back(std::move(done));
  }
  // Waits for the next pending request and completes it.
  void ReleaseNext() {
    std::function<void()> done;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(+[](std::deque<std::function<void()>>* p) { return !p->empty(); },
                                &pending_));
      done = std::move(pending_.front());
      pending_.pop_front();
    }
    released_.fetch_add(1);
    done();
  }
  int released() const { return released_.load(); }
  void AwaitPending() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(+[](std::deque<std::function<void()>>* p) { return !p->empty(); },
                              &pending_));
  }

 private:
  absl::Mutex mu_;
  std::deque<std::function<void()>> pending_ ABSL_GUARDED_BY(mu_);
  std::atomic<int> released_{0};
};

TEST(HttpServerAsyncTest, ResponseIsWrittenOnlyAfterDoneAndPipeliningKeepsOrder) {
  GatedHandler handler;
  HttpServer server(&handler, {.address = "127.0.0.1:0", .threads = 2, .access_log = false});
  absl::StatusOr<int> port = server.Start();
  ASSERT_TRUE(port.ok()) << port.status();
  TestHttpClient client(*port);
  client.WriteRaw("GET /one HTTP/1.1\r\nHost: h\r\n\r\nGET /two HTTP/1.1\r\nHost: h\r\n\r\n");
  std::vector<std::pair<std::string, int>> got;  // body, releases seen when it arrived
  std::thread reader([&] {
    for (int i = 0; i < 2; ++i) {
      TestHttpClient::Response r = client.Read(false);
      got.emplace_back(r.body, handler.released());
    }
  });
  handler.ReleaseNext();  // /one; /two is read only after /one is written
  handler.ReleaseNext();
  reader.join();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].first, "/one");
  EXPECT_GE(got[0].second, 1);
  EXPECT_EQ(got[1].first, "/two");
  EXPECT_EQ(got[1].second, 2);
  // Keep-alive still works afterwards.
  std::thread third([&] { handler.ReleaseNext(); });
  EXPECT_EQ(client.Send("GET", "/three").body, "/three");
  third.join();
}

TEST(HttpServerAsyncTest, StopWaitsForAHandlerThatHasNotFinished) {
  GatedHandler handler;
  HttpServer server(&handler, {.address = "127.0.0.1:0", .threads = 1, .access_log = false});
  absl::StatusOr<int> port = server.Start();
  ASSERT_TRUE(port.ok()) << port.status();
  TestHttpClient client(*port);
  client.WriteRaw("GET /late HTTP/1.1\r\nHost: h\r\n\r\n");
  handler.AwaitPending();
  // The release races Stop() with no grace: `done` must find the server whole whenever it comes
  // (ASan reports it otherwise). Released before the threads stop, the response may still be
  // written; after, the connection is closed without one. Either way the connection then ends.
  std::thread releaser([&] { handler.ReleaseNext(); });
  server.Stop(absl::ZeroDuration());
  releaser.join();
  EXPECT_EQ(handler.released(), 1);
  try {
    EXPECT_EQ(client.Read(false).body, "/late");
  } catch (const boost::system::system_error& e) {
    EXPECT_TRUE(e.code() == boost::beast::http::error::end_of_stream ||
                e.code() == boost::asio::error::connection_reset)
        << e.code().message();
    return;
  }
  EXPECT_TRUE(client.ServerClosed());
}

TEST(RedactTargetForLogTest, KeepsNamesDropsValuesAndIdentifierLikeSegments) {
  auto [path, params] =
      RedactTargetForLog("/fhir/Patient?identifier=http://x|19121212-1212&_count=5&name:exact=Tolvan");
  EXPECT_EQ(path, "/fhir/Patient");
  EXPECT_EQ(params, "identifier,_count,name:exact");
  auto [path2, params2] = RedactTargetForLog("/fhir/Patient/191212121212/_history/2");
  EXPECT_EQ(path2, "/fhir/Patient/{redacted}/_history/2");
  EXPECT_EQ(params2, "");
  auto [path3, params3] = RedactTargetForLog("/fhir/Patient/a%31b?19121212%2D1212=x");
  EXPECT_EQ(path3, "/fhir/Patient/{redacted}");
  EXPECT_EQ(params3, "{redacted}");
  EXPECT_EQ(RedactTargetForLog("/fhir/CarePlan/3f2a9c1e-77b0-4c1d-9e2f-0a1b2c3d4e5f").first,
            "/fhir/CarePlan/3f2a9c1e-77b0-4c1d-9e2f-0a1b2c3d4e5f");
}

TEST(AcceptsGzipTest, ParsesQualities) {
  EXPECT_TRUE(http_internal::AcceptsGzip("gzip"));
  EXPECT_TRUE(http_internal::AcceptsGzip("deflate, GZIP;q=0.5"));
  EXPECT_TRUE(http_internal::AcceptsGzip("*"));
  EXPECT_FALSE(http_internal::AcceptsGzip("gzip;q=0"));
  EXPECT_FALSE(http_internal::AcceptsGzip("identity"));
  EXPECT_FALSE(http_internal::AcceptsGzip(""));
}

}  // namespace
}  // namespace carehub::services
