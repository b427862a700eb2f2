#include "kafka/producer.hpp"

#include <array>
#include <utility>

namespace wasmplug::kafka {

Result<std::unique_ptr<Producer>> Producer::create(const ProducerConfig& config) {
  bool has_brokers = false;
  for (const auto& [name, value] : config.properties) {
    has_brokers = has_brokers || (name == "bootstrap.servers" && !value.empty());
  }
  if (!has_brokers) {
    return Error{ErrorKind::InvalidArgument, Phase::Config, {}, {},
                 "kafka producer: properties must set 'bootstrap.servers' (the brokers, host:port,...)"};
  }
  auto conf = detail::make_conf(
      {{"enable.idempotence", "true"}, {"message.timeout.ms", "0"}, {"linger.ms", "5"}}, config.properties);
  if (!conf) {
    return std::move(conf).error();
  }
  std::unique_ptr<Producer> producer(new Producer());
  rd_kafka_conf_set_dr_msg_cb(conf->get(), &Producer::on_delivery);
  rd_kafka_conf_set_opaque(conf->get(), producer.get());
  std::array<char, 512> reason{};
  // rd_kafka_new takes the conf only when it succeeds.
  rd_kafka_conf_t* raw_conf = conf->release();
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, raw_conf, reason.data(), reason.size());
  if (rk == nullptr) {
    rd_kafka_conf_destroy(raw_conf);
    return Error{ErrorKind::InvalidArgument, Phase::Config, {}, {}, "kafka producer: " + std::string(reason.data())};
  }
  producer->rk_.reset(rk);
  Producer* self = producer.get();
  producer->poller_ = std::thread([self] {
    while (!self->stop_.load(std::memory_order_acquire)) {
      rd_kafka_poll(self->rk_.get(), 100);
    }
  });
  return producer;
}

Producer::~Producer() {
  if (rk_) {
    static_cast<void>(flush(std::chrono::seconds(30)));
    // What is still queued fails now, so every callback runs exactly once.
    rd_kafka_purge(rk_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    static_cast<void>(flush(std::chrono::seconds(5)));
  }
  stop_.store(true, std::memory_order_release);
  if (poller_.joinable()) {
    poller_.join();
  }
  if (rk_) {
    rd_kafka_poll(rk_.get(), 0);
  }
}

void Producer::on_delivery(rd_kafka_t* rk, const rd_kafka_message_t* message, void* opaque) {
  static_cast<void>(rk);
  auto* self = static_cast<Producer*>(opaque);
  std::unique_ptr<DeliveryCallback> done(static_cast<DeliveryCallback*>(message->_private));
  if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    self->delivered_.fetch_add(1, std::memory_order_relaxed);
    if (done && *done) {
      (*done)(Result<void>{});
    }
  } else {
    self->failed_.fetch_add(1, std::memory_order_relaxed);
    if (done && *done) {
      (*done)(detail::kafka_error(ErrorKind::Io, Phase::Call,
                                  "delivery to " + std::string(rd_kafka_topic_name(message->rkt)), message->err));
    }
  }
}

Result<void> Producer::produce(std::string_view topic, const Record& record, DeliveryCallback done) {
  auto opaque = std::make_unique<DeliveryCallback>(std::move(done));
  const std::string topic_name(topic);
  while (true) {
    rd_kafka_headers_t* headers = nullptr;
    if (!record.headers.empty()) {
      headers = rd_kafka_headers_new(record.headers.size());
      for (const auto& h : record.headers) {
        rd_kafka_header_add(headers, h.key.data(), static_cast<ssize_t>(h.key.size()),
                            h.value ? h.value->data() : nullptr,
                            h.value ? static_cast<ssize_t>(h.value->size()) : 0);
      }
    }
    // librdkafka copies key, value and headers (MSG_F_COPY; headers are taken on success).
    // rd_kafka_produceva, not the rd_kafka_producev macros: those are C casts.
    std::array<rd_kafka_vu_t, 6> vus{};
    vus[0].vtype = RD_KAFKA_VTYPE_TOPIC;
    vus[0].u.cstr = topic_name.c_str();
    vus[1].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
    vus[1].u.i = RD_KAFKA_MSG_F_COPY;
    vus[2].vtype = RD_KAFKA_VTYPE_KEY;
    vus[2].u.mem = {record.key ? const_cast<char*>(record.key->data()) : nullptr, record.key ? record.key->size() : 0};
    vus[3].vtype = RD_KAFKA_VTYPE_VALUE;
    vus[3].u.mem = {const_cast<char*>(record.value.data()), record.value.size()};
    vus[4].vtype = RD_KAFKA_VTYPE_OPAQUE;
    vus[4].u.ptr = opaque.get();
    vus[5].vtype = RD_KAFKA_VTYPE_HEADERS;
    vus[5].u.headers = headers;
    rd_kafka_error_t* error = rd_kafka_produceva(rk_.get(), vus.data(), headers != nullptr ? 6 : 5);
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (error != nullptr) {
      err = rd_kafka_error_code(error);
      rd_kafka_error_destroy(error);
    }
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      [[maybe_unused]] DeliveryCallback* owned_by_on_delivery = opaque.release();
      produced_.fetch_add(1, std::memory_order_relaxed);
      return {};
    }
    if (headers != nullptr) {
      rd_kafka_headers_destroy(headers);
    }
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      return detail::kafka_error(ErrorKind::Io, Phase::Call, "produce to " + topic_name, err);
    }
    // The local queue is full: wait for deliveries to make room (the delivery thread serves them).
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

Result<void> Producer::flush(std::chrono::milliseconds timeout) {
  // The delivery thread polls too; rd_kafka_flush only waits for the queue to drain.
  rd_kafka_resp_err_t err = rd_kafka_flush(rk_.get(), static_cast<int>(timeout.count()));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Error{ErrorKind::Timeout, Phase::Call, {}, {},
                 "kafka producer: " + std::to_string(rd_kafka_outq_len(rk_.get())) +
                     " records still not delivered after " + std::to_string(timeout.count()) + " ms"};
  }
  return {};
}

ProducerStats Producer::stats() const {
  return {produced_.load(std::memory_order_relaxed), delivered_.load(std::memory_order_relaxed),
          failed_.load(std::memory_order_relaxed)};
}

Record dead_letter_record(const Record& input, const DeadLetterReason& reason) {
  Record out;
  out.key = input.key;
  out.value = input.value;
  out.headers = input.headers;
  out.headers.push_back({"wasmplug.error.kind", reason.kind});
  out.headers.push_back({"wasmplug.error.phase", reason.phase});
  out.headers.push_back({"wasmplug.error.message", reason.message});
  out.headers.push_back({"wasmplug.stage", reason.stage});
  out.headers.push_back({"wasmplug.source.topic", input.topic});
  out.headers.push_back({"wasmplug.source.partition", std::to_string(input.partition)});
  out.headers.push_back({"wasmplug.source.offset", std::to_string(input.offset)});
  return out;
}

}  // namespace wasmplug::kafka
