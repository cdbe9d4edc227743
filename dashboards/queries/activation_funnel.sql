-- The activation funnel: registered -> first message -> activated.
--
-- Question: of all users, how many wrote to staff at least once, and how many went on to
--           send the activation threshold of messages (3 by default)?
-- Columns:  registered_users (UInt64): every user with a profile. The profile keeps no
--           registration time, so "registered" means "first seen" (a user's first event is
--           normally their account/register);
--           first_message_users (UInt64): users with messages_sent >= 1;
--           activated_users (UInt64): users with activated = 1;
--           first_message_rate (Float64, 4 decimals): first_message_users / registered_users;
--           activation_rate (Float64, 4 decimals): activated_users / first_message_users;
--           rates are 0 when their denominator is 0.
-- Window:   all users, whenever they arrived.
-- Macros:   none.
-- One row (an aggregate without GROUP BY), so no ORDER BY is needed.
SELECT
    count() AS registered_users,
    countIf(messages_sent >= 1) AS first_message_users,
    countIf(activated = 1) AS activated_users,
    round(if(registered_users = 0, 0, first_message_users / registered_users), 4) AS first_message_rate,
    round(if(first_message_users = 0, 0, activated_users / first_message_users), 4) AS activation_rate
FROM user_profiles_current
