// A blocking HTTP/1.1 client on Beast for the HTTP server's and the FHIR API's tests: real
// sockets, one keep-alive connection per client, plus raw writes for malformed requests.
//
//   TestHttpClient client(port);
//   TestHttpClient::Response r = client.Send("GET", "/fhir/Patient/abc", {{"Accept", "..."}});
//   EXPECT_EQ(r.status, 200);
//
// Thread-compatible: one client per thread.
#ifndef CAREHUB_SERVICES_FHIR_TESTING_HTTP_CLIENT_H_
#define CAREHUB_SERVICES_FHIR_TESTING_HTTP_CLIENT_H_

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace carehub::services::testing {

class TestHttpClient {
 public:
  struct Response {
    int status = 0;
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;
    bool keep_alive = false;
    std::string header(const std::string& name) const {
      auto it = headers.find(name);
      return it == headers.end() ? "" : it->second;
    }
  };

  explicit TestHttpClient(int port) : port_(port), socket_(ioc_) { Connect(); }

  void Connect() {
    boost::system::error_code ignored;
    socket_.close(ignored);
    buffer_.clear();
    socket_.connect({boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port_)});
  }

  // Sends one request on the connection (reconnecting if the server closed it) and reads the
  // response. `head` reads a response without a body.
  Response Send(const std::string& method, const std::string& target,
                const std::vector<std::pair<std::string, std::string>>& headers = {},
                const std::string& body = "", bool head = false) {
    namespace http = boost::beast::http;
    http::request<http::string_body> request(http::string_to_verb(method), target, 11);
    request.set(http::field::host, "127.0.0.1:" + std::to_string(port_));
    for (const auto& [name, value] : headers) request.set(name, value);
    if (!body.empty() || method == "POST") {
      request.body() = body;
      request.prepare_payload();
    }
    http::write(socket_, request);
    return Read(head);
  }

  // Writes raw bytes (for malformed or oversized requests) and reads one response.
  Response SendRaw(const std::string& bytes) {
    boost::asio::write(socket_, boost::asio::buffer(bytes));
    return Read(false);
  }
  void WriteRaw(const std::string& bytes) { boost::asio::write(socket_, boost::asio::buffer(bytes)); }

  Response Read(bool head) {
    namespace http = boost::beast::http;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 << 20);
    parser.skip(head);
    http::read(socket_, buffer_, parser);
    Response r;
    r.status = static_cast<int>(parser.get().result_int());
    for (const auto& field : parser.get()) {
      std::string name(field.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      r.headers[name] = std::string(field.value());
    }
    r.body = parser.get().body();
    r.keep_alive = parser.get().keep_alive();
    return r;
  }

  // True if the server has closed the connection (a read returns end of stream).
  bool ServerClosed() {
    boost::system::error_code ec;
    char c;
    socket_.read_some(boost::asio::buffer(&c, 1), ec);
    return ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset;
  }

 private:
  int port_;
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
};

}  // namespace carehub::services::testing

#endif  // CAREHUB_SERVICES_FHIR_TESTING_HTTP_CLIENT_H_
