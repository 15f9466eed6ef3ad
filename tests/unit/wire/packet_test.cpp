#include <gtest/gtest.h>
#include "engine/wire/packet.hpp"
TEST(Packet, Placeholder) { EXPECT_EQ(replicast::wire::kHeaderSize, 24u); }
