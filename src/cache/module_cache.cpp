#include "cache/module_cache.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <memory>
#include <chrono>
#include <string_view>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "engine/log_queue.hpp"

namespace wasmplug::detail {

namespace {

// Entry layout (all integers little-endian):
//   magic "WPCACHE\n" | u32 format | u32 0 | key[32] | u64 payload length |
//   payload (wasmtime_module_serialize) | HMAC-SHA-256 over all of the above.
constexpr std::array<std::uint8_t, 8> kMagic{'W', 'P', 'C', 'A', 'C', 'H', 'E', '\n'};
constexpr std::uint32_t kFormat = 1;
constexpr std::size_t kKeyBytes = 32;
constexpr std::size_t kHeaderBytes = 8 + 4 + 4 + kKeyBytes + 8;
constexpr std::size_t kMacBytes = 32;
constexpr std::size_t kSecretBytes = 32;
constexpr std::string_view kEntrySuffix = ".cwasm";
constexpr std::string_view kTempPrefix = ".tmp-";
// A temp file older than this belongs to a writer that died: writing one
// takes milliseconds (compiling happens before the file is created).
constexpr auto kStaleTemp = std::chrono::hours(1);

using Key = std::array<std::uint8_t, kKeyBytes>;

std::string errno_text(int err) { return std::strerror(err); }

void put_u32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) {
    out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
}
void put_u64(std::vector<std::uint8_t>& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) {
    out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
}
std::uint64_t get_u64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) {
    v = (v << 8) | p[i];
  }
  return v;
}
std::uint32_t get_u32(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
         static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}

std::string hex(std::span<const std::uint8_t> bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::uint8_t b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 0xf];
  }
  return out;
}

std::array<std::uint8_t, kMacBytes> mac(std::span<const std::uint8_t> secret, std::span<const std::uint8_t> data) {
  std::array<std::uint8_t, kMacBytes> out{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()), data.data(), data.size(), out.data(), &len);
  return out;
}

struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd >= 0) {
      ::close(fd);
    }
  }
};

bool write_all(int fd, std::span<const std::uint8_t> bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  return true;
}

// Reads exactly `size` bytes; false (errno set, or 0 for a short file).
bool read_all(int fd, std::uint8_t* out, std::size_t size) {
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::read(fd, out + done, size - done);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return false;
    }
    if (n == 0) {
      errno = 0;
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  return true;
}

std::string random_hex(std::size_t bytes) {
  std::vector<std::uint8_t> raw(bytes);
  if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1) {
    return std::to_string(::getpid()) + "-" + std::to_string(reinterpret_cast<std::uintptr_t>(&raw));
  }
  return hex(raw);
}

// mkdir -p; the directories we create are private (0700).
bool make_directories(const std::filesystem::path& dir, int& err) {
  std::filesystem::path so_far;
  for (const auto& part : dir) {
    so_far /= part;
    if (::mkdir(so_far.c_str(), 0700) != 0 && errno != EEXIST) {
      err = errno;
      return false;
    }
  }
  return true;
}

// A cache file: one of ours by name (64 hex + suffix) or a temp file.
bool is_entry_name(std::string_view name) {
  return name.size() == 2 * kKeyBytes + kEntrySuffix.size() && name.ends_with(kEntrySuffix) &&
         std::all_of(name.begin(), name.begin() + 2 * kKeyBytes,
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace

ModuleCache::ModuleCache(ModuleCacheConfig config, std::string engine_settings, LogQueue& logs)
    : config_(std::move(config)), engine_settings_(std::move(engine_settings)), logs_(logs) {
  enabled_ = !config_.directory.empty() && open_directory();
}

void ModuleCache::problem(const std::string& message) {
  errors_.fetch_add(1, std::memory_order_relaxed);
  // Once per Runtime: a full disk or a read-only directory would otherwise
  // log on every load. The counter keeps the rest.
  if (!reported_.exchange(true)) {
    logs_.push("wasmplug", LogLevel::Warn,
               "compiled-code cache " + config_.directory.string() + ": " + message +
                   " (loads go on without it; further cache problems are only counted)");
  }
}

// The directory must be ours and closed to others, because whoever can write
// it can replace the MAC key and so make us load code of their choosing
// (docs/security/cache.md). The secret key is created once, atomically
// (link(2) does not replace), so concurrent first users agree on one key.
bool ModuleCache::open_directory() {
  const std::filesystem::path& dir = config_.directory;
  int err = 0;
  if (!make_directories(dir, err)) {
    problem("cannot create the directory: " + errno_text(err));
    return false;
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    problem("cannot stat the directory: " + errno_text(errno));
    return false;
  }
  if (!S_ISDIR(st.st_mode)) {
    problem("not a directory");
    return false;
  }
  if (st.st_uid != ::geteuid() || (st.st_mode & 022) != 0) {
    problem("the directory must be owned by this user and not writable by group or others (chmod 700)");
    return false;
  }
  const std::filesystem::path key_path = dir / "key";
  for (int attempt = 0; attempt < 2; ++attempt) {
    // O_NONBLOCK: a FIFO planted in the cache directory must not block the open
    // (the fstat that follows refuses anything but a regular file).
    Fd key(::open(key_path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
    if (key.fd >= 0) {
      struct stat ks {};
      secret_.assign(kSecretBytes, 0);
      if (::fstat(key.fd, &ks) != 0 || !S_ISREG(ks.st_mode) || ks.st_uid != ::geteuid() ||
          (ks.st_mode & 077) != 0 || static_cast<std::uint64_t>(ks.st_size) != kSecretBytes ||
          !read_all(key.fd, secret_.data(), secret_.size())) {
        secret_.clear();
        problem("the key file " + key_path.string() +
                " is not a 32-byte file owned by this user with mode 0600; remove it (or the whole directory) to "
                "start a new cache");
        return false;
      }
      return true;
    }
    if (errno != ENOENT) {
      problem("cannot open " + key_path.string() + ": " + errno_text(errno));
      return false;
    }
    std::vector<std::uint8_t> fresh(kSecretBytes);
    if (RAND_bytes(fresh.data(), static_cast<int>(fresh.size())) != 1) {
      problem("no random bytes for the key file");
      return false;
    }
    const std::filesystem::path temp = dir / (std::string(kTempPrefix) + random_hex(8));
    {
      Fd out(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
      if (out.fd < 0 || !write_all(out.fd, fresh)) {
        problem("cannot write " + temp.string() + ": " + errno_text(errno));
        ::unlink(temp.c_str());
        return false;
      }
    }
    const bool linked = ::link(temp.c_str(), key_path.c_str()) == 0;
    const int link_err = errno;
    ::unlink(temp.c_str());
    if (!linked && link_err != EEXIST) {
      problem("cannot create " + key_path.string() + ": " + errno_text(link_err));
      return false;
    }
    // Linked, or another process won the race: read whichever key is there.
  }
  problem("cannot read " + key_path.string());
  return false;
}

Key ModuleCache::key_of(const std::string& module_hash) const {
  std::string material = "wasmplug compiled-code cache format " + std::to_string(kFormat) + "\n" + engine_settings_ +
                         "\nmodule sha256 " + module_hash;
  Key key{};
  unsigned int len = 0;
  EVP_Digest(material.data(), material.size(), key.data(), &len, EVP_sha256(), nullptr);
  return key;
}

std::filesystem::path ModuleCache::entry_path(const std::string& module_hash) const {
  if (config_.directory.empty()) {
    return {};
  }
  return config_.directory / (hex(key_of(module_hash)) + std::string(kEntrySuffix));
}

wasmtime_error_t* ModuleCache::compile(wasm_engine_t* engine, const std::string& module_hash,
                                       std::span<const std::uint8_t> wasm, wasmtime_module_t** out) {
  const bool use = enabled_ && !module_hash.empty();
  Key key{};
  std::filesystem::path path;
  if (use) {
    key = key_of(module_hash);
    path = config_.directory / (hex(key) + std::string(kEntrySuffix));
    if (ModuleHandle found = find(engine, key, path)) {
      hits_.fetch_add(1, std::memory_order_relaxed);
      *out = found.release();
      return nullptr;
    }
    misses_.fetch_add(1, std::memory_order_relaxed);
  }
  compiles_.fetch_add(1, std::memory_order_relaxed);
  wasmtime_error_t* error = wasmtime_module_new(engine, wasm.data(), wasm.size(), out);
  if (error == nullptr && use) {
    store(*out, key, path);
  }
  return error;
}

bool ModuleCache::compile_component(const std::string& component_hash,
                                    const std::function<bool(std::span<const std::uint8_t>)>& deserialize,
                                    const std::function<bool()>& compile,
                                    const std::function<std::vector<std::uint8_t>()>& serialize) {
  // A component's key differs from any module's: another name space.
  const std::string hash = component_hash.empty() ? std::string() : "component " + component_hash;
  const bool use = enabled_ && !hash.empty();
  Key key{};
  std::filesystem::path path;
  if (use) {
    key = key_of(hash);
    path = config_.directory / (hex(key) + std::string(kEntrySuffix));
    if (read_entry(key, path, deserialize)) {
      hits_.fetch_add(1, std::memory_order_relaxed);
      return true;
    }
    misses_.fetch_add(1, std::memory_order_relaxed);
  }
  compiles_.fetch_add(1, std::memory_order_relaxed);
  if (!compile()) {
    return false;
  }
  if (use) {
    const std::vector<std::uint8_t> bytes = serialize();
    if (bytes.empty()) {
      problem("the engine could not serialize a component");
    } else {
      store_bytes(bytes, key, path);
    }
  }
  return true;
}

std::filesystem::path ModuleCache::component_entry_path(const std::string& component_hash) const {
  if (config_.directory.empty()) {
    return {};
  }
  return config_.directory / (hex(key_of("component " + component_hash)) + std::string(kEntrySuffix));
}

// Every byte is checked (length, magic, format, key, MAC) before Wasmtime
// sees any: wasmtime_module_deserialize trusts its input completely (it maps
// the bytes as executable code).
ModuleHandle ModuleCache::find(wasm_engine_t* engine, const Key& key, const std::filesystem::path& path) {
  ModuleHandle found;
  const bool hit = read_entry(key, path, [&](std::span<const std::uint8_t> code) {
    wasmtime_module_t* module = nullptr;
    if (wasmtime_error_t* error = wasmtime_module_deserialize(engine, code.data(), code.size(), &module)) {
      wasmtime_error_delete(error);
      return false;
    }
    found = ModuleHandle(module);
    return true;
  });
  return hit ? std::move(found) : ModuleHandle();
}

bool ModuleCache::read_entry(const Key& key, const std::filesystem::path& path,
                             const std::function<bool(std::span<const std::uint8_t>)>& use) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));  // a FIFO must not block
  if (fd.fd < 0) {
    if (errno != ENOENT) {
      problem("cannot open " + path.string() + ": " + errno_text(errno));
    }
    return false;
  }
  auto reject = [&] {
    rejected_.fetch_add(1, std::memory_order_relaxed);
    return false;
  };
  struct stat st {};
  if (::fstat(fd.fd, &st) != 0) {
    problem("cannot stat " + path.string() + ": " + errno_text(errno));
    return false;
  }
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (!S_ISREG(st.st_mode) || size < kHeaderBytes + kMacBytes || size > config_.max_bytes) {
    return reject();
  }
  // Not zero-filled first: every byte is read over (MiBs per hit).
  const auto length = static_cast<std::size_t>(size);
  const auto buffer = std::make_unique_for_overwrite<std::uint8_t[]>(length);
  const std::span<const std::uint8_t> bytes(buffer.get(), length);
  if (!read_all(fd.fd, buffer.get(), length)) {
    if (errno != 0) {
      problem("cannot read " + path.string() + ": " + errno_text(errno));
      return false;
    }
    return reject();  // shrank under us: not an entry we wrote whole
  }
  const std::uint8_t* p = bytes.data();
  const std::size_t signed_bytes = bytes.size() - kMacBytes;
  if (!std::equal(kMagic.begin(), kMagic.end(), p) || get_u32(p + 8) != kFormat || get_u32(p + 12) != 0 ||
      !std::equal(key.begin(), key.end(), p + 16) || get_u64(p + 16 + kKeyBytes) != signed_bytes - kHeaderBytes) {
    return reject();
  }
  const auto expected = mac(secret_, bytes.first(signed_bytes));
  if (CRYPTO_memcmp(expected.data(), p + signed_bytes, kMacBytes) != 0) {
    return reject();
  }
  if (!use(bytes.subspan(kHeaderBytes, signed_bytes - kHeaderBytes))) {
    // Ours and intact, but this engine cannot use it (a Wasmtime check our
    // key did not cover): replaced by the compile that follows.
    return reject();
  }
  // Least recently used = oldest mtime; touching it keeps it from eviction.
  ::futimens(fd.fd, nullptr);
  return true;
}

// Written whole to a private temp file, then renamed over the entry: readers
// see the old file or the new one, never a part. No fsync: a file torn by a
// crash fails its MAC and is a miss.
void ModuleCache::store(const wasmtime_module_t* module, const Key& key, const std::filesystem::path& path) {
  wasm_byte_vec_t serialized{};
  if (wasmtime_error_t* error = wasmtime_module_serialize(const_cast<wasmtime_module_t*>(module), &serialized)) {
    wasmtime_error_delete(error);
    problem("the engine could not serialize a module");
    return;
  }
  store_bytes({reinterpret_cast<const std::uint8_t*>(serialized.data), serialized.size}, key, path);
  wasm_byte_vec_delete(&serialized);
}

void ModuleCache::store_bytes(std::span<const std::uint8_t> serialized, const Key& key,
                              const std::filesystem::path& path) {
  std::vector<std::uint8_t> file;
  file.reserve(kHeaderBytes + serialized.size() + kMacBytes);
  file.insert(file.end(), kMagic.begin(), kMagic.end());
  put_u32(file, kFormat);
  put_u32(file, 0);
  file.insert(file.end(), key.begin(), key.end());
  put_u64(file, serialized.size());
  file.insert(file.end(), serialized.begin(), serialized.end());
  const auto tag = mac(secret_, file);
  file.insert(file.end(), tag.begin(), tag.end());
  if (file.size() > config_.max_bytes) {
    return;  // would evict everything else and still not fit
  }

  const std::filesystem::path temp =
      config_.directory / (std::string(kTempPrefix) + std::to_string(::getpid()) + "-" + random_hex(8));
  {
    Fd out(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (out.fd < 0) {
      problem("cannot create " + temp.string() + ": " + errno_text(errno));
      return;
    }
    if (!write_all(out.fd, file)) {
      problem("cannot write " + temp.string() + ": " + errno_text(errno));
      ::unlink(temp.c_str());
      return;
    }
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    problem("cannot rename " + temp.string() + " to " + path.string() + ": " + errno_text(errno));
    ::unlink(temp.c_str());
    return;
  }
  stores_.fetch_add(1, std::memory_order_relaxed);
  evict(path);
}

// Removes the least recently used entries until the rest fit max_bytes.
// Unlinking is safe against every other user: a reader keeps its open file,
// a writer renames a new file into place. Only complete entries (by name)
// count and are removed, plus temp files of writers that died long ago.
void ModuleCache::evict(const std::filesystem::path& keep) {
  std::lock_guard lock(evict_mutex_);
  DIR* dir = ::opendir(config_.directory.c_str());
  if (dir == nullptr) {
    problem("cannot list the directory: " + errno_text(errno));
    return;
  }
  struct Entry {
    std::filesystem::path path;
    std::uint64_t size;
    timespec mtime;
  };
  std::vector<Entry> entries;
  std::uint64_t total = 0;
  const auto now = std::chrono::system_clock::now();
  while (const dirent* d = ::readdir(dir)) {
    const std::string_view name = d->d_name;
    const bool entry = is_entry_name(name);
    const bool temp = name.starts_with(kTempPrefix);
    if (!entry && !temp) {
      continue;
    }
    struct stat st {};
    if (::fstatat(::dirfd(dir), d->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) {
      continue;
    }
    std::filesystem::path path = config_.directory / name;
    if (temp) {
      if (now - std::chrono::system_clock::from_time_t(st.st_mtim.tv_sec) > kStaleTemp) {
        ::unlink(path.c_str());
      }
      continue;
    }
    total += static_cast<std::uint64_t>(st.st_size);
    entries.push_back({std::move(path), static_cast<std::uint64_t>(st.st_size), st.st_mtim});
  }
  ::closedir(dir);
  if (total <= config_.max_bytes) {
    return;
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.mtime.tv_sec != b.mtime.tv_sec ? a.mtime.tv_sec < b.mtime.tv_sec : a.mtime.tv_nsec < b.mtime.tv_nsec;
  });
  for (const Entry& e : entries) {
    if (total <= config_.max_bytes) {
      break;
    }
    if (e.path == keep) {
      continue;
    }
    if (::unlink(e.path.c_str()) == 0) {
      evictions_.fetch_add(1, std::memory_order_relaxed);
    }
    // Gone either way (ENOENT: another process evicted it first).
    total -= e.size;
  }
}

ModuleCacheStats ModuleCache::stats() const noexcept {
  ModuleCacheStats s;
  s.hits = hits_.load(std::memory_order_relaxed);
  s.misses = misses_.load(std::memory_order_relaxed);
  s.rejected = rejected_.load(std::memory_order_relaxed);
  s.stores = stores_.load(std::memory_order_relaxed);
  s.evictions = evictions_.load(std::memory_order_relaxed);
  s.errors = errors_.load(std::memory_order_relaxed);
  s.compiles = compiles_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace wasmplug::detail
