// TLS for the control plane, both ends: TLS 1.3 only, mutual authentication,
// and the identity a certificate names.
//
// TLS 1.3 only. gRPC 1.51 (Debian 12) has no TLS-version setting in its public
// API (set_min_tls_version came in later releases) and pins the OpenSSL
// minimum to TLS 1.2 itself. What it does take is GRPC_SSL_CIPHER_SUITES, the
// TLS 1.2 cipher list (TLS 1.3 suites are configured apart by OpenSSL):
// require_tls13() sets it, before the process makes its first TLS context, to
// the TLS 1.3 suites plus one PSK-only TLS 1.2 suite. Nothing here configures
// a PSK, so no TLS 1.2 handshake can agree on a cipher: a TLS 1.2 peer is
// refused at its ClientHello ("no shared cipher"), and TLS 1.3 is all that
// remains. tests/unit/control proves it with `openssl s_client -tls1_2`.
//
// Client certificates (server side): gRPC is told to require one without
// verifying it, and verify_client_certificate() (a gRPC certificate-verifier
// hook, run inside the handshake) verifies the chain against the CA with
// OpenSSL's X509_verify_cert for the TLS-client purpose, so that a refusal can
// be logged with its reason (rate-limited). OpenSSL still checks the client's
// CertificateVerify signature (possession of the key) in the handshake. A
// refused certificate fails the handshake: the caller sees UNAVAILABLE.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>

#include "engine/control/control_server.hpp"

namespace replicast::control {

/// The cipher list require_tls13() installs (GRPC_SSL_CIPHER_SUITES).
inline constexpr const char* kTls13CipherSuites =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:PSK-AES256-GCM-SHA384";

/// Installs the cipher list (once per process, before any gRPC TLS context).
/// Throws ControlError when the environment already holds another list.
void require_tls13();

/// Routes gRPC's and protobuf's own log lines (a failed handshake, a request
/// that does not parse: lines any peer can trigger) through the "control"
/// logger, rate-limited. Process-wide; called by the server and the client.
void route_library_logs();

/// Reads a whole PEM file; ControlError naming `what` and the path otherwise.
std::string read_pem(const std::string& path, const std::string& what);

/// Server credentials: `certificate`/`private_key` for the server, client
/// certificates verified against `ca`. Throws ControlError.
std::shared_ptr<grpc::ServerCredentials> server_credentials(const ControlConfig& config);

/// Client credentials for the typed client: this host's certificate and key,
/// the server verified against `ca` and its name checked.
std::shared_ptr<grpc::ChannelCredentials> client_credentials(const std::string& certificate_pem,
                                                             const std::string& key_pem, const std::string& ca_pem);

/// The identity of an authenticated peer from gRPC's auth-context values: the
/// subject CN, or the first URI SAN. Empty when the certificate has none.
std::string peer_identity(IdentitySource source, const std::vector<std::string>& common_names,
                          const std::vector<std::string>& uris);

}  // namespace replicast::control
