// The receive path on real sockets, in a private network namespace: what it
// delivers and what it counts, reason by reason. Datagrams are sent first (they
// wait in the socket buffer), then the test drives poll() itself until every
// one was received: no thread, no sleep, bounded in count and time (the
// wake-up tests excepted: they are about a thread being woken).
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>
#include <string_view>
#include <cstdlib>
#include <utility>
#include <vector>

#include "engine/chain/reassembler.hpp"
#include "engine/rx/receiver.hpp"
#include "engine/rx/socket.hpp"
#include "rx_net.hpp"

// GCC 12 at -O3 sees copies of a vector it cannot prove non-empty and warns
// on the header edits below (checked by the ASSERT before them).
#pragma GCC diagnostic ignored "-Wnull-dereference"

namespace replicast::rx {
namespace {

using testing::Datagram;
using testing::Sender;
using testing::kOtherSource;
using testing::kSource;

constexpr std::uint32_t kStream = 7;
constexpr std::uint32_t kEpoch = 3;

crypto::Key key_bytes(std::uint8_t fill) {
    crypto::Key k{};
    for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<std::uint8_t>(fill + i);
    return k;
}

std::uint16_t next_port() {
    static std::uint16_t port = 40000;
    return port++;
}

// One stream's socket and receiver, with the epoch-3 key installed.
struct Rig {
    std::uint16_t port = next_port();
    std::unique_ptr<RxSocket> socket;
    std::unique_ptr<Receiver> receiver;
    crypto::GcmEngine engine;  // the test's sender side
    crypto::GcmKey key{engine, key_bytes(1)};

    explicit Rig(bool kernel_filter = true, std::size_t queue_slots = 1024, std::size_t max_datagram = 9216,
                 Wakeup* wakeup = nullptr) {
        socket = std::make_unique<RxSocket>(SocketConfig{.interface = "lo",
                                                         .group = testing::kGroup,
                                                         .port = port,
                                                         .source = kSource,
                                                         .kernel_source_filter = kernel_filter,
                                                         .rcvbuf_bytes = 4u << 20,
                                                         .timeout_ms = 20});
        receiver = std::make_unique<Receiver>(ReceiverConfig{.stream_id = kStream,
                                                             .source = kSource,
                                                             .batch = 8,
                                                             .max_datagram = max_datagram,
                                                             .queue_slots = queue_slots,
                                                             .wakeup = wakeup},
                                              socket->fd());
        auto k = receiver->make_key(key_bytes(1));
        EXPECT_TRUE(receiver->post_key(kEpoch, k));
    }

    // Polls until `datagrams` were received in all (bounded: 2 s).
    void receive(std::uint64_t datagrams) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
        while (receiver->counters().datagrams.get() < datagrams && std::chrono::steady_clock::now() < deadline) {
            ASSERT_GE(receiver->poll(), 0);
        }
        ASSERT_EQ(receiver->counters().datagrams.get(), datagrams);
    }

    // Everything queued so far, valid packets only, payloads copied.
    struct Got {
        wire::PacketHeader header;
        wire::PacketKind kind;
        wire::ChainPosition position;
        std::vector<std::uint8_t> payload;
    };
    std::vector<Got> drain() {
        std::vector<Got> out;
        auto& ring = receiver->queue().ring();
        const std::size_t n = ring.readable();
        for (std::size_t i = 0; i < n; ++i) {
            const RxPacket& p = ring.peek(i);
            if (!p.valid) continue;
            const auto pl = receiver->queue().payload(i);
            out.push_back({p.header, p.kind, p.position, {pl.begin(), pl.end()}});
        }
        ring.release(n);
        return out;
    }

    std::uint64_t dropped_total() const {
        std::uint64_t t = 0;
        for (std::size_t r = 0; r < static_cast<std::size_t>(RxDrop::count_); ++r) t += receiver->counters().drop(static_cast<RxDrop>(r));
        return t;
    }
};

TEST(Rx, DeliversSealedChainsInOrderAndTheyReassemble) {
    Rig rig;
    Sender tx(kSource, rig.port);
    std::uint64_t seq = 1;
    std::vector<Datagram> all;
    for (std::uint64_t lsn = 1; lsn <= 30; lsn += 10) {
        // 10 updates of 400 bytes: a chain of 3 packets
        for (auto& d : testing::sealed_chain(rig.engine, rig.key, kStream, kEpoch, seq, lsn, 10, 400)) all.push_back(d);
    }
    all.push_back(testing::sealed_heartbeat(rig.engine, rig.key, kStream, kEpoch, seq++, 30));
    for (const auto& d : all) tx.send(d);
    rig.receive(all.size());
    const auto got = rig.drain();
    ASSERT_EQ(got.size(), all.size());
    EXPECT_EQ(rig.dropped_total(), 0u);
    EXPECT_EQ(rig.receiver->counters().packets.get(), all.size());
    chain::Reassembler r;
    std::vector<std::uint64_t> lsns;
    for (const auto& g : got) {
        if (g.kind != wire::PacketKind::data) {
            EXPECT_EQ(g.kind, wire::PacketKind::heartbeat);
            wire::Heartbeat hb;
            ASSERT_EQ(wire::parse_heartbeat(g.payload, hb), wire::WireError::ok);
            EXPECT_EQ(hb.last_lsn, 30u);
            continue;
        }
        if (r.on_data(g.header, g.position, g.payload) == chain::Reassembler::Event::chain) {
            lsns.push_back(r.chain().head.first_lsn);
            EXPECT_EQ(r.chain().head.update_count, 10u);
        }
    }
    EXPECT_EQ(lsns, (std::vector<std::uint64_t>{1, 11, 21}));
}

double elapsed_ms(std::chrono::steady_clock::time_point since) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - since).count();
}

// The daemon's idle sleep (engine/rx/wakeup.hpp): a wait ends on a notify
// given after the consumer's mark, even one given before it went to sleep,
// and otherwise at its timeout.
TEST(Wakeup, ANotifyAfterTheMarkEndsTheWaitAtOnce) {
    Wakeup w;
    const std::uint32_t seen = w.sequence();
    w.notify();  // before the wait: must not be lost
    const auto t0 = std::chrono::steady_clock::now();
    w.wait(seen, 10'000);
    EXPECT_LT(elapsed_ms(t0), 2'000.0);
}

TEST(Wakeup, WithoutANotifyTheWaitLastsItsTimeout) {
    Wakeup w;
    const auto t0 = std::chrono::steady_clock::now();
    w.wait(w.sequence(), 60);
    EXPECT_GE(elapsed_ms(t0), 55.0);
}

TEST(Wakeup, ANotifyFromAnotherThreadWakesTheSleeper) {
    Wakeup w;
    const std::uint32_t seen = w.sequence();
    std::thread producer([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        w.notify();
    });
    const auto t0 = std::chrono::steady_clock::now();
    w.wait(seen, 10'000);
    const double ms = elapsed_ms(t0);
    producer.join();
    EXPECT_LT(ms, 5'000.0) << "the notify did not wake the waiter: it slept until its timeout";
}

// The receive thread notifies after a batch: a processing thread asleep on
// the wakeup gets up for a packet well before its timeout, and finds it queued.
TEST(Rx, ABatchReceivedWakesTheProcessingThread) {
    Wakeup w;
    Rig rig(true, 1024, 9216, &w);
    std::atomic<bool> stop{false};
    std::thread rx([&] { rig.receiver->run(stop); });
    Sender tx(kSource, rig.port);
    std::uint64_t seq = 1;
    const std::uint32_t seen = w.sequence();
    std::thread sender([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        tx.send(testing::sealed_heartbeat(rig.engine, rig.key, kStream, kEpoch, seq, 1));
    });
    const auto t0 = std::chrono::steady_clock::now();
    w.wait(seen, 10'000);
    const double ms = elapsed_ms(t0);
    sender.join();
    stop = true;
    rx.join();
    EXPECT_LT(ms, 5'000.0) << "no wake-up for a received batch";
    EXPECT_NE(w.sequence(), seen);
    EXPECT_EQ(rig.receiver->counters().packets.get(), 1u);
}

TEST(Rx, BadTagIsAnOpenFailure) {
    Rig rig;
    Sender tx(kSource, rig.port);
    std::uint64_t seq = 1;
    auto d = testing::sealed_chain(rig.engine, rig.key, kStream, kEpoch, seq, 1, 1, 10);
    d[0].back() ^= 1;  // the tag's last byte
    tx.send(d[0]);
    // The same packet_seq sealed properly still gets in: the forgery did not burn it.
    std::uint64_t again = 1;
    tx.send(testing::sealed_chain(rig.engine, rig.key, kStream, kEpoch, again, 1, 1, 10)[0]);
    rig.receive(2);
    EXPECT_EQ(rig.receiver->counters().drop(RxDrop::open_failure), 1u);
    const auto got = rig.drain();
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].header.packet_seq, 1u);
}

TEST(Rx, AnotherKeysTagIsAnOpenFailure) {
    Rig rig;
    Sender tx(kSource, rig.port);
    crypto::GcmKey wrong(rig.engine, key_bytes(99));
    std::uint64_t seq = 1;
    tx.send(testing::sealed_chain(rig.engine, wrong, kStream, kEpoch, seq, 1, 1, 10)[0]);
    rig.receive(1);
    EXPECT_EQ(rig.receiver->counters().drop(RxDrop::open_failure), 1u);
    EXPECT_TRUE(rig.drain().empty());
}

TEST(Rx, UnknownEpochIsCountedAndAsksForKeys) {
    Rig rig;
    Sender tx(kSource, rig.port);
    std::uint64_t seq = 1;
    tx.send(testing::sealed_chain(rig.engine, rig.key, kStream, 9, seq, 1, 1, 10)[0]);
    rig.receive(1);
    EXPECT_EQ(rig.receiver->counters().drop(RxDrop::unknown_epoch), 1u);
    EXPECT_TRUE(rig.drain().empty());
    EXPECT_EQ(rig.receiver->take_key_wanted(), 9u);
    EXPECT_EQ(rig.receiver->take_key_wanted(), 0u);  // taken once
}

TEST(Rx, KeyChangeForAnEpochWithoutKeyAsksForKeys) {
    Rig rig;
    Sender tx(kSource, rig.port);
    tx.send(testing::sealed_key_change(rig.engine, rig.key, kStream, kEpoch, 1, 4, 100));
    rig.receive(1);
    const auto got = rig.drain();
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].kind, wire::PacketKind::key_change);
    EXPECT_EQ(rig.receiver->take_key_wanted(), 4u);
}

TEST(Rx, NewKeyHandedOverOpensAndRetiredKeysComeBack) {
    Rig rig;
    Sender tx(kSource, rig.port);
    crypto::GcmKey next(rig.engine, key_bytes(50));
    auto k = rig.receiver->make_key(key_bytes(50));
    ASSERT_TRUE(rig.receiver->post_key(4, k));
    EXPECT_EQ(k, nullptr);  // ownership passed
    std::uint64_t seq = 1;
    tx.send(testing::sealed_chain(rig.engine, next, kStream, 4, seq, 1, 1, 10)[0]);
    rig.receive(1);  // poll() applied the command first
    EXPECT_EQ(rig.drain().size(), 1u);
    ASSERT_TRUE(rig.receiver->retire_older_than(4));
    tx.send(testing::sealed_chain(rig.engine, rig.key, kStream, kEpoch, seq, 2, 1, 10)[0]);
    rig.receive(2);
    EXPECT_EQ(rig.receiver->collect_retired(), 1u);  // epoch 3's key, given back and freed here
    EXPECT_EQ(rig.receiver->counters().drop(RxDrop::unknown_epoch), 1u);
}

TEST(Rx, WrongSourceIsCountedByTheUserSpaceCheck) {
    // Any-source join, so that the datagram reaches user space: the check of
    // each datagram's source is what refuses it here.
    Rig rig(/*kernel_filter=*/false);
    Sender good(kSource, rig.port), bad(kOtherSource, rig.port);
    std::uint64_t seq = 1;
    bad.send(testing::sealed_chain(rig.engine, rig.key, kStream, kEpoch, seq, 1, 1, 10)[0]);
    good.send(testing::sealed_chain(rig.engine, rig.key, kStream, kEpoch, seq, 2, 1, 10)[0]);
    rig.receive(2);
    EXPECT_EQ(rig.receiver->counters().drop(RxDrop::wrong_source), 1u);
    const auto got = rig.drain();
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].header.packet_seq, 2u);
}

TEST(Rx, SourceSpecificJoinKeepsOtherSourcesOutInTheKernel) {
    Rig rig(/*kernel_filter=*/true);
    Sender good(kSource, rig.port), bad(kOtherSource, rig.port);
    std::uint64_t seq = 1;
    bad.send(testing::sealed_chain(rig.engine, rig.key, kStream, kEpoch, seq, 1, 1, 10)[0]);
    good.send(testing::sealed_chain(rig.engine, rig.key, kStream, kEpoch, seq, 2, 1, 10)[0]);
    rig.receive(1);
    // One more poll: nothing else is waiting (the socket times out).
    EXPECT_EQ(rig.receiver->poll(), 0);
    EXPECT_EQ(rig.receiver->counters().datagrams.get(), 1u);
    const auto got = rig.drain();
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].header.packet_seq, 2u);
}

TEST(Rx, ReplayedAndTooOldPacketSeqsAreRefused) {
    Rig rig;
    Sender tx(kSource, rig.port);
    std::uint64_t seq = 5;
    const Datagram d = testing::sealed_chain(rig.engine, rig.key, kStream, kEpoch, seq, 1, 1, 10)[0];
    tx.send(d);
    tx.send(d);  // same batch (or the next): a replay either way
    rig.receive(2);
    EXPECT_EQ(rig.receiver->counters().drop(RxDrop::replay), 1u);
    tx.send(d);  // a later batch
    rig.receive(3);
    EXPECT_EQ(rig.receiver->counters().drop(RxDrop::replay), 2u);
    seq = 5000;
    tx.send(testing::sealed_chain(rig.engine, rig.key, kStream, kEpoch, seq, 2, 1, 10)[0]);
    seq = 6;  // now below the window (5000 - 1024)
    tx.send(testing::sealed_chain(rig.engine, rig.key, kStream, kEpoch, seq, 3, 1, 10)[0]);
    rig.receive(5);
    EXPECT_EQ(rig.receiver->counters().drop(RxDrop::too_old), 1u);
    const auto got = rig.drain();
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].header.packet_seq, 5u);
    EXPECT_EQ(got[1].header.packet_seq, 5000u);
}

TEST(Rx, WrongStreamIsRefused) {
    Rig rig;
    Sender tx(kSource, rig.port);
    std::uint64_t seq = 1;
    tx.send(testing::sealed_chain(rig.engine, rig.key, kStream + 1, kEpoch, seq, 1, 1, 10)[0]);
    rig.receive(1);
    EXPECT_EQ(rig.receiver->counters().drop(RxDrop::wrong_stream), 1u);
    EXPECT_TRUE(rig.drain().empty());
}

TEST(Rx, LyingLengthsTruncatedAndMalformedDatagramsAreCountedApart) {
    Rig rig(true, 1024, /*max_datagram=*/512);
    Sender tx(kSource, rig.port);
    std::uint64_t seq = 1;
    const Datagram good = testing::sealed_chain(rig.engine, rig.key, kStream, kEpoch, seq, 1, 1, 100)[0];
    ASSERT_GT(good.size(), 40u);
    const auto set_len = [](Datagram& d, unsigned len) {
        d[22] = static_cast<std::uint8_t>(len >> 8);
        d[23] = static_cast<std::uint8_t>(len & 0xff);
    };
    const unsigned len = (unsigned{good[22]} << 8) | good[23];
    Datagram longer = good;  // payload_len claims one byte more than arrived
    set_len(longer, len + 1);
    Datagram shorter = good;  // and one less
    set_len(shorter, len - 1);
    const Datagram cut(good.begin(), good.end() - 5);   // the tail lost
    const Datagram header_only(good.begin(), good.begin() + 10);
    std::uint64_t big_seq = 2;
    const Datagram too_big =  // longer than the receiver's 512-byte datagrams: cut by the kernel
        testing::sealed_chain(rig.engine, rig.key, kStream, kEpoch, big_seq, 2, 1, 1000, 1400)[0];
    Datagram bad_magic = good;
    bad_magic[0] ^= 0xff;
    for (const Datagram* d :
         std::initializer_list<const Datagram*>{&longer, &shorter, &cut, &header_only, &too_big, &bad_magic}) {
        tx.send(*d);
    }
    rig.receive(6);
    // Shorter than declared (a lost tail and a header claiming more look alike),
    // longer than declared or than any datagram taken, the rest.
    EXPECT_EQ(rig.receiver->counters().drop(RxDrop::truncated), 3u);
    EXPECT_EQ(rig.receiver->counters().drop(RxDrop::bad_length), 2u);
    EXPECT_EQ(rig.receiver->counters().drop(RxDrop::malformed), 1u);
    EXPECT_EQ(rig.dropped_total(), 6u);
    EXPECT_TRUE(rig.drain().empty());
    tx.send(good);  // none of them burned packet_seq 1
    rig.receive(7);
    EXPECT_EQ(rig.drain().size(), 1u);
}

TEST(Rx, AFullQueueCountsOverflowsAndKeepsWhatFits) {
    Rig rig(true, /*queue_slots=*/4);
    Sender tx(kSource, rig.port);
    std::uint64_t seq = 1;
    for (std::uint64_t lsn = 1; lsn <= 10; ++lsn) {
        tx.send(testing::sealed_chain(rig.engine, rig.key, kStream, kEpoch, seq, lsn, 1, 10)[0]);
    }
    rig.receive(10);
    EXPECT_EQ(rig.receiver->counters().drop(RxDrop::queue_overflow), 6u);
    const auto got = rig.drain();
    ASSERT_EQ(got.size(), 4u);
    for (std::size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].header.packet_seq, i + 1);
    // The overflowed packet_seqs were never committed: a repeat of seq 7 is fresh.
    std::uint64_t again = 7;
    tx.send(testing::sealed_chain(rig.engine, rig.key, kStream, kEpoch, again, 7, 1, 10)[0]);
    rig.receive(11);
    EXPECT_EQ(rig.drain().size(), 1u);
}

TEST(Rx, AnUnsealedStreamTakesEpochZeroOnly) {
    // A server run with [keys] sealed = false (labs): payloads arrive in clear,
    // and a sealed packet claiming the stream is refused rather than trusted unopened.
    const std::uint16_t port = next_port();
    RxSocket socket({.interface = "lo", .group = testing::kGroup, .port = port, .source = kSource, .rcvbuf_bytes = 1u << 20,
                     .timeout_ms = 20});
    Receiver rx({.stream_id = kStream, .source = kSource, .sealed = false, .batch = 8}, socket.fd());
    Sender tx(kSource, port);
    const std::vector<std::uint8_t> payload{1, 2, 3, 4, 5};
    Datagram clear(wire::datagram_size(payload.size(), false));
    wire::encode_header({.flags = wire::flags::kOic, .stream_id = kStream, .packet_seq = 1, .key_epoch = 0,
                         .payload_len = static_cast<std::uint16_t>(payload.size())},
                        clear.data());
    std::copy(payload.begin(), payload.end(), clear.begin() + wire::kHeaderSize);
    crypto::GcmEngine engine;
    crypto::GcmKey key(engine, key_bytes(1));
    std::uint64_t seq = 2;
    tx.send(clear);
    tx.send(testing::sealed_chain(engine, key, kStream, kEpoch, seq, 1, 1, 10)[0]);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (rx.counters().datagrams.get() < 2 && std::chrono::steady_clock::now() < deadline) ASSERT_GE(rx.poll(), 0);
    ASSERT_EQ(rx.counters().datagrams.get(), 2u);
    EXPECT_EQ(rx.counters().drop(RxDrop::unknown_epoch), 1u);
    auto& ring = rx.queue().ring();
    ASSERT_EQ(ring.readable(), 1u);
    ASSERT_TRUE(ring.peek(0).valid);
    const auto got = rx.queue().payload(0);
    EXPECT_EQ(std::vector<std::uint8_t>(got.begin(), got.end()), payload);
}

TEST(Rx, TheSocketSaysHowFullItsBufferIsAndWhatItDropped) {
    // Adaptive rate's signal (ReceiveStats 17, 18): nobody reads, so the
    // buffer fills and the kernel drops; reading it all empties it again.
    const std::uint16_t port = next_port();
    RxSocket socket({.interface = "lo", .group = testing::kGroup, .port = port, .source = kSource,
                     .rcvbuf_bytes = 65536, .timeout_ms = 20});
    RxSocket::BufferState empty;
    ASSERT_TRUE(socket.buffer_state(empty));
    EXPECT_EQ(empty.drops, 0u);
    EXPECT_EQ(empty.fill_pct, 0u);
    Sender tx(kSource, port);
    const std::vector<std::uint8_t> datagram(1400, 0x5a);
    for (int i = 0; i < 400; ++i) tx.send(datagram);  // 560 kB into a buffer of 64 KiB (the kernel's 128 KiB)
    RxSocket::BufferState full;
    ASSERT_TRUE(socket.buffer_state(full));
    EXPECT_GT(full.drops, 0u);
    EXPECT_GE(full.fill_pct, 50u);
    EXPECT_LE(full.fill_pct, 110u);  // the kernel admits a datagram while under the limit: a little over 100 at most
    RecvBatch batch(64, 2048);
    while (batch.receive(socket.fd()) > 0) {
    }
    RxSocket::BufferState drained;
    ASSERT_TRUE(socket.buffer_state(drained));
    EXPECT_EQ(drained.fill_pct, 0u);
    EXPECT_EQ(drained.drops, full.drops) << "a total: reading does not reset it";
}

// Pages of the queue's arena that are resident now (mincore), of all it spans.
std::pair<std::size_t, std::size_t> resident_pages(PacketQueue& q, std::size_t slots, std::size_t slot_bytes) {
    const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
    const auto begin = reinterpret_cast<std::uintptr_t>(q.slot(0).data());
    const std::uintptr_t first = (begin + page - 1) / page * page;  // whole pages of the arena only
    const std::uintptr_t last = (begin + slots * slot_bytes) / page * page;
    std::vector<unsigned char> in((last - first) / page);
    if (::mincore(reinterpret_cast<void*>(first), last - first, in.data()) != 0) return {0, 0};
    return {static_cast<std::size_t>(std::count_if(in.begin(), in.end(), [](unsigned char c) { return (c & 1) != 0; })),
            in.size()};
}

TEST(Rx, APrefaultedQueueIsResidentBeforeTheFirstPacket) {
    // 49 MB: above the largest mmap threshold glibc's malloc moves to (32 MiB),
    // so each arena is a fresh mapping, never heap memory earlier tests touched.
    constexpr std::size_t kSlots = 32768, kSlotBytes = 1500;
    // glibc's MALLOC_PERTURB_ (meson sets it) fills what malloc hands out,
    // which touches the pages itself: the contrast holds only without it.
    const char* perturb = std::getenv("MALLOC_PERTURB_");
    if (perturb == nullptr || std::string_view(perturb) == "0") {
        PacketQueue cold(kSlots, kSlotBytes, false);
        const auto [cold_in, cold_all] = resident_pages(cold, kSlots, kSlotBytes);
        ASSERT_GT(cold_all, 10000u);
        EXPECT_LT(cold_in, cold_all / 10) << "without prefault the arena is left to the first packets";
    }
    PacketQueue warm(kSlots, kSlotBytes, true);
    const auto [warm_in, warm_all] = resident_pages(warm, kSlots, kSlotBytes);
    EXPECT_EQ(warm_in, warm_all) << "prefault_queue: every page of the arena touched at once";
}

TEST(Rx, TheLargestDatagramFollowsTheInterfacesMtu) {
    // In this test's own network namespace: lo's MTU is ours to change.
    EXPECT_EQ(interface_max_datagram("lo"), kMaxDatagramDefault) << "lo's 65536 is capped at a jumbo frame's";
    ASSERT_EQ(std::system("ip link set lo mtu 1500"), 0);
    EXPECT_EQ(interface_max_datagram("lo"), 1472u) << "1500 less the IPv4 and UDP headers";
    ASSERT_EQ(std::system("ip link set lo mtu 65536"), 0);
    EXPECT_EQ(interface_max_datagram("no-such-if0"), 0u);
    EXPECT_EQ(interface_max_datagram(""), 0u);
}

TEST(Rx, ReceiveBufferGrantIsReported) {
    Rig rig;
    EXPECT_GT(rig.socket->rcvbuf_granted(), 0u);
    // As root, SO_RCVBUFFORCE passes rmem_max: the 4 MiB asked for are granted.
    if (::geteuid() == 0) {
        EXPECT_FALSE(rig.socket->rcvbuf_capped());
    }
}

TEST(Rx, BadSocketConfigsAreNamed) {
    EXPECT_THROW(RxSocket({.interface = "no-such-if0", .group = testing::kGroup, .port = 1, .source = kSource}), std::runtime_error);
    try {
        RxSocket s({.interface = "lo", .group = 0x0a000001, .port = 1, .source = kSource});
        FAIL() << "a unicast group was accepted";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("group 10.0.0.1"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace replicast::rx

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    if (const std::string why = replicast::testing::enter_private_netns(); !why.empty()) {
        std::fprintf(stderr, "rx_test needs its own network namespace (root): %s\n", why.c_str());
        return 77;  // meson: skipped
    }
    return RUN_ALL_TESTS();
}
