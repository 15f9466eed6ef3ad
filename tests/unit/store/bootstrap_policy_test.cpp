// The bootstrap and staleness policy, one case per reason, and the order in
// which reasons are reported when several hold.
#include <gtest/gtest.h>

#include "store/bootstrap_policy.hpp"

namespace replicast::store {
namespace {

constexpr std::array<std::uint8_t, 16> kMaster{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
constexpr std::array<std::uint8_t, 16> kOther{9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9};

ReplicaState bound_at(std::uint64_t applied) {
    return {.applied_lsn = applied, .bound = true, .master_uuid = kMaster, .incomplete = false};
}

MasterPosition master(std::uint64_t oldest, std::uint64_t last) {
    return {.uuid = kMaster, .oldest_lsn = oldest, .last_lsn = last};
}

TEST(BootstrapPolicy, NewReplica) {
    EXPECT_EQ(bootstrap_reason(ReplicaState{}, master(1, 0)), BootstrapReason::new_replica);
    EXPECT_EQ(bootstrap_reason(ReplicaState{}, master(1, 500)), BootstrapReason::new_replica);
}

TEST(BootstrapPolicy, IncompleteBootstrap) {
    ReplicaState st = bound_at(0);
    st.incomplete = true;
    EXPECT_EQ(bootstrap_reason(st, master(1, 10)), BootstrapReason::incomplete);
}

TEST(BootstrapPolicy, OtherStore) {
    ReplicaState st = bound_at(5);
    st.master_uuid = kOther;
    EXPECT_EQ(bootstrap_reason(st, master(1, 10)), BootstrapReason::other_store);
}

TEST(BootstrapPolicy, BehindRetention) {
    // Next needed LSN 5, the log starts at 6: LSN 5 is gone.
    EXPECT_EQ(bootstrap_reason(bound_at(4), master(6, 100)), BootstrapReason::behind_retention);
    // Next needed LSN 6 is exactly the oldest kept: continue.
    EXPECT_EQ(bootstrap_reason(bound_at(5), master(6, 100)), BootstrapReason::none);
}

TEST(BootstrapPolicy, AheadOfMaster) {
    EXPECT_EQ(bootstrap_reason(bound_at(101), master(1, 100)), BootstrapReason::ahead_of_master);
    EXPECT_EQ(bootstrap_reason(bound_at(100), master(1, 100)), BootstrapReason::none);
}

TEST(BootstrapPolicy, ContinuesWithinTheLog) {
    EXPECT_EQ(bootstrap_reason(bound_at(0), master(1, 0)), BootstrapReason::none);  // bound, nothing written yet
    EXPECT_EQ(bootstrap_reason(bound_at(50), master(1, 100)), BootstrapReason::none);
}

TEST(BootstrapPolicy, FirstReasonWins) {
    ReplicaState st = bound_at(1000);
    st.incomplete = true;
    st.master_uuid = kOther;
    EXPECT_EQ(bootstrap_reason(st, master(2000, 3000)), BootstrapReason::incomplete);
    st.incomplete = false;
    EXPECT_EQ(bootstrap_reason(st, master(2000, 3000)), BootstrapReason::other_store);
}

TEST(BootstrapPolicy, EveryReasonIsDescribed) {
    for (auto r : {BootstrapReason::none, BootstrapReason::new_replica, BootstrapReason::incomplete,
                   BootstrapReason::other_store, BootstrapReason::behind_retention, BootstrapReason::ahead_of_master}) {
        EXPECT_NE(describe(r), "unknown");
    }
}

}  // namespace
}  // namespace replicast::store
