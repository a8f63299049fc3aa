// SPDX-License-Identifier: Apache-2.0
// The framework's own ceiling: the smallest Pistache 0.0.5 Http::Handler that answers every
// request with a fixed 200 JSON body. It carries the same keep-alive fix as mfa-mock (an
// HTTP/1.1 request with no Connection header gets "Connection: keep-alive"), so the two are
// compared on equal terms. No routing, no parsing of the body, no shared state.
//
// usage: bare_pistache [PORT] [THREADS]    (PORT 0 = any free port; THREADS 0 = core count)
// Prints "bare_pistache ready 127.0.0.1:PORT" once listening; SIGINT/SIGTERM stop it.
#include <pistache/endpoint.h>
#include <pistache/http.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

namespace {

using namespace Pistache;

constexpr char kBody[] = R"({"verificationId":"bench0000000000000000"})";

class BareHandler : public Http::Handler {
 public:
  HTTP_PROTOTYPE(BareHandler)

  void onRequest(const Http::Request& request, Http::ResponseWriter response) override {
    // Pistache 0.0.5 answers "Connection: Close" to HTTP/1.1 requests without a Connection
    // header (wrk sends none). HTTP/1.1 defaults to keep-alive: say so. add<>() never
    // overwrites, so remove the header the framework set first.
    if (request.version() == Http::Version::Http11 &&
        !request.headers().has<Http::Header::Connection>()) {
      response.headers().remove<Http::Header::Connection>();
      response.headers().add<Http::Header::Connection>(Http::ConnectionControl::KeepAlive);
    }
    response.send(Http::Code::Ok, kBody, sizeof(kBody) - 1, MIME(Application, Json));
  }
};

}  // namespace

int main(int argc, char** argv) {
  const int port = argc > 1 ? std::atoi(argv[1]) : 0;
  int threads = argc > 2 ? std::atoi(argv[2]) : 0;
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (port < 0 || port > 65535) {
    std::fprintf(stderr, "usage: %s [PORT] [THREADS]\n", argv[0]);
    return 2;
  }

  // Block the stop signals in every thread; main waits for them with sigwait().
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  Http::Endpoint endpoint(Address(Ipv4::loopback(), Port(static_cast<uint16_t>(port))));
  endpoint.init(Http::Endpoint::options()
                    .threads(threads)
                    .flags(Tcp::Options::ReuseAddr)
                    .maxRequestSize(4096)
                    .headerTimeout(std::chrono::seconds(5))
                    .bodyTimeout(std::chrono::seconds(5))
                    .keepaliveTimeout(std::chrono::seconds(30)));
  endpoint.setHandler(Http::make_handler<BareHandler>());
  endpoint.serveThreaded();
  std::printf("bare_pistache ready 127.0.0.1:%u threads=%d\n",
              static_cast<unsigned>(static_cast<uint16_t>(endpoint.getPort())), threads);
  std::fflush(stdout);

  int sig = 0;
  sigwait(&stop, &sig);
  endpoint.shutdown();
  return 0;
}
