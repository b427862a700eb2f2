#include "admission/hash.hpp"

#include <algorithm>
#include <array>
#include <tuple>
#include <vector>
#include <memory>

#include <openssl/evp.h>

#include "admission/admission.hpp"

namespace wasmplug::detail {

namespace {

class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new(), &EVP_MD_CTX_free) { EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr); }
  void add(std::span<const std::uint8_t> bytes) {
    add_u64(bytes.size());
    EVP_DigestUpdate(ctx_.get(), bytes.data(), bytes.size());
  }
  void add_u64(std::uint64_t v) {
    std::array<std::uint8_t, 8> le{};
    for (std::size_t i = 0; i < le.size(); ++i) {
      le[i] = static_cast<std::uint8_t>(v >> (8 * i));
    }
    EVP_DigestUpdate(ctx_.get(), le.data(), le.size());
  }
  std::string hex() {
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx_.get(), digest.data(), &len);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < len; ++i) {
      out += kHex[digest[i] >> 4];
      out += kHex[digest[i] & 0xf];
    }
    return out;
  }

 private:
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx_;
};

}  // namespace

std::string module_hash(std::span<const std::uint8_t> wasm) {
  Sha256 h;
  h.add(wasm);
  return h.hex();
}

std::string content_hash(const std::string& module_hash, const LoadOptions& options) {
  const Limits& limits = options.limits;
  Sha256 h;
  h.add_u64(kPolicyVersion);
  h.add_u64(static_cast<std::uint64_t>(options.abi));
  h.add_u64(static_cast<std::uint64_t>(options.isolation));
  h.add_u64(options.pool.max_instances);
  h.add_u64(static_cast<std::uint64_t>(options.pool.acquire_timeout.count()));
  h.add_u64(options.pool.recycle_after_calls);
  h.add_u64(options.pool.recycle_memory_bytes);
  h.add_u64(options.wasi ? 1 : 0);
  h.add_u64(limits.memory_bytes);
  h.add_u64(limits.table_elements);
  h.add_u64(static_cast<std::uint64_t>(limits.deadline.count()));
  h.add_u64(limits.cpu_deadline ? static_cast<std::uint64_t>(limits.cpu_deadline->count()) : 0);
  h.add_u64(limits.fuel ? 1 : 0);
  h.add_u64(limits.fuel.value_or(0));
  h.add_u64(limits.max_input_bytes);
  h.add_u64(limits.max_output_bytes);
  h.add_u64(limits.max_guest_metrics);
  h.add_u64(limits.max_guest_metric_name_bytes);
  // The same bytes admitted under other required hooks are another admission outcome.
  std::uint64_t required = 0;
  for (Hook hook : options.required_hooks) {
    required |= std::uint64_t{1} << static_cast<unsigned>(hook);
  }
  h.add_u64(required);
  h.add(options.config);
  h.add(std::span(reinterpret_cast<const std::uint8_t*>(module_hash.data()), module_hash.size()));
  // Grants decide what the plugin may import. Only hashed when present, so
  // hashes of plugins without grants stay what they were.
  auto text = [](const std::string& s) { return std::span(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()); };
  if (!options.host_functions.empty()) {
    std::vector<HostFunctionGrant> grants = options.host_functions;  // order does not matter
    std::ranges::sort(grants, [](const HostFunctionGrant& a, const HostFunctionGrant& b) {
      return std::tie(a.module, a.name) < std::tie(b.module, b.name);
    });
    h.add_u64(grants.size());
    for (const HostFunctionGrant& grant : grants) {
      h.add(text(grant.module));
      h.add(text(grant.name));
    }
  }
  return h.hex();
}

}  // namespace wasmplug::detail
