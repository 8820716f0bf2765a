-- REFUND-G08 (S002 L2852): a whole-instance refund also refunds its renewal periods not yet in effect
-- (L2804, L2809, L2817), so the payments of an instance's orders are found by the instance.
ALTER TABLE refund_payments ADD COLUMN subscription_id text;
CREATE INDEX refund_payments_subscription_idx ON refund_payments (subscription_id, order_id, id);

---- create above / drop below ----

DROP INDEX refund_payments_subscription_idx;
ALTER TABLE refund_payments DROP COLUMN subscription_id;
