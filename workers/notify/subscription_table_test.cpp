#include <doctest/doctest.h>

#include "subscription_table.hpp"

using namespace anipipe::notify;

TEST_CASE("subscriptions: a value subscribes, a tombstone unsubscribes, a repeat replaces") {
  SubscriptionTable t;
  CHECK_FALSE(t.apply("9873:user-42", R"({"title_id":9873,"subscriber_id":"user-42","channels":["topic"]})"));
  CHECK_FALSE(t.apply("9873:user-7", R"({"title_id":9873,"subscriber_id":"user-7"})"));
  CHECK_FALSE(t.apply("100:user-7", R"({"title_id":100,"subscriber_id":"user-7"})"));
  CHECK(t.subscriptions() == 3);
  CHECK(t.titles() == 2);
  REQUIRE(t.audience(9873));
  CHECK(t.audience(9873)->at("user-42") == Channel::topic);
  CHECK(t.audience(9873)->at("user-7") == kAllChannels);

  CHECK_FALSE(t.apply("9873:user-42", R"({"title_id":9873,"subscriber_id":"user-42","channels":["webhook","websocket"]})"));
  CHECK(t.subscriptions() == 3);
  CHECK(t.audience(9873)->at("user-42") == (Channel::webhook | Channel::websocket));

  CHECK_FALSE(t.apply("9873:user-42", std::nullopt));
  CHECK_FALSE(t.apply("9873:user-42", std::nullopt));  // twice: still fine
  CHECK_FALSE(t.apply("5:nobody", std::nullopt));
  CHECK(t.subscriptions() == 2);
  CHECK_FALSE(t.apply("100:user-7", std::nullopt));
  CHECK(t.audience(100) == nullptr);
  CHECK(t.titles() == 1);
}

TEST_CASE("subscriptions: malformed records are refused with a reason and change nothing") {
  SubscriptionTable t;
  CHECK(t.apply(std::nullopt, R"({"title_id":1,"subscriber_id":"a"})")->find("without a key") != std::string::npos);
  CHECK(t.apply("1", R"({"title_id":1,"subscriber_id":"a"})")->find("title_id:subscriber_id") != std::string::npos);
  CHECK(t.apply("x:a", R"({"title_id":1,"subscriber_id":"a"})"));
  CHECK(t.apply("0:a", R"({"title_id":0,"subscriber_id":"a"})"));
  CHECK(t.apply("1:", R"({"title_id":1,"subscriber_id":""})"));
  CHECK(t.apply("1:a", "not json")->find("not a JSON object") != std::string::npos);
  CHECK(t.apply("1:a", R"({"title_id":2,"subscriber_id":"a"})")->find("title_id does not match") != std::string::npos);
  CHECK(t.apply("1:a", R"({"title_id":1,"subscriber_id":"b"})")->find("subscriber_id does not match") != std::string::npos);
  CHECK(t.apply("1:a", R"({"title_id":1,"subscriber_id":"a","channels":"topic"})"));
  CHECK(t.apply("1:a", R"({"title_id":1,"subscriber_id":"a","channels":["sms"]})")->find("unknown channel") != std::string::npos);
  CHECK(t.subscriptions() == 0);
  CHECK(t.audience(1) == nullptr);
}
