//! Batch consumption: the source's own librdkafka queue, which every assigned partition's
//! messages are routed to and which hands them out a batch per call.
//!
//! The `rdkafka` crate's consumers hand out one message per poll, and each poll costs a queue
//! lock, three clock reads, an `Arc` per message and the event wrapper around it: 17% of a
//! replay's CPU, more than the state updates (docs/performance.md). librdkafka's
//! `rd_kafka_consume_batch_queue` takes a whole batch in one call instead. On the consumer
//! queue it cannot be used, though: there it would also serve the group's rebalance events
//! itself, assigning and revoking partitions without the `ConsumerContext`, which holds
//! revocations back until the engine has flushed (docs/guarantees.md, "Rebalances").
//!
//! So messages take another route. Before a partition is assigned, its fetch queue is
//! forwarded to a [`MessageQueue`] (the source's context does it, in the rebalance callback).
//! That queue holds only messages and per-partition errors; the consumer queue keeps the
//! group's events and is polled through `rdkafka` as before. The `rdkafka` crate's
//! `split_partition_queue` uses the same librdkafka calls, for one queue per partition.
//!
//! Messages of a partition revoked meanwhile are dropped by librdkafka as they are taken: each
//! carries the version of its partition's fetch, which an unassign bumps.

use std::ffi::{c_void, CStr, CString};
use std::mem::size_of;
use std::ptr::{self, NonNull};
use std::slice;

use rdkafka::bindings as rdsys;
use rdkafka::error::KafkaError;
use rdkafka::types::RDKafkaRespErr;
use tokio::sync::Notify;

/// A librdkafka queue of the source's own, with a wake-up for whoever waits on it.
pub(crate) struct MessageQueue {
    queue: NonNull<rdsys::rd_kafka_queue_t>,
    /// Notified by librdkafka's threads when the queue turns non-empty. Boxed so that the
    /// address librdkafka holds stays put.
    ready: Box<Notify>,
}

// SAFETY: every librdkafka queue operation takes the queue's own lock, so a queue handle may be
// used from any thread, and from several at once.
unsafe impl Send for MessageQueue {}
unsafe impl Sync for MessageQueue {}

impl MessageQueue {
    /// A new, empty queue of `client`.
    ///
    /// # Safety
    ///
    /// `client` must be a live consumer handle, and must stay alive until the queue is dropped.
    pub(crate) unsafe fn new(client: *mut rdsys::rd_kafka_t) -> Self {
        // SAFETY: `client` is live (the caller's promise); the queue is destroyed in `drop`.
        let queue = unsafe { rdsys::rd_kafka_queue_new(client) };
        let queue = NonNull::new(queue).expect("librdkafka aborts rather than fail an allocation");
        let ready = Box::new(Notify::new());
        // SAFETY: `ready` outlives the callback, which `drop` disables before freeing it.
        unsafe {
            rdsys::rd_kafka_queue_cb_event_enable(
                queue.as_ptr(),
                Some(wake),
                ptr::from_ref::<Notify>(&ready).cast_mut().cast(),
            );
        }
        Self { queue, ready }
    }

    /// Routes the messages of `partition` of `topic` here instead of to the consumer queue.
    /// Call it before the partition is assigned, so that none of them goes the other way.
    ///
    /// # Safety
    ///
    /// `client` must be the live consumer handle the queue was made for.
    pub(crate) unsafe fn route(&self, client: *mut rdsys::rd_kafka_t, topic: &str, partition: i32) {
        let topic = CString::new(topic).expect("Kafka topic names have no NUL");
        // SAFETY: `client` is live (the caller's promise) and `topic` a C string; the partition's
        // queue reference taken here is released at once, the forwarding keeps its own.
        unsafe {
            let fetched = rdsys::rd_kafka_queue_get_partition(client, topic.as_ptr(), partition);
            if fetched.is_null() {
                // Not a partition of a consumer (never the case here): nothing to route.
                return;
            }
            rdsys::rd_kafka_queue_forward(fetched, self.queue.as_ptr());
            rdsys::rd_kafka_queue_destroy(fetched);
        }
    }

    /// Appends what is queued to `messages`, without waiting, until it holds `max`.
    pub(crate) fn take(&self, messages: &mut Vec<QueuedMessage>, max: usize) {
        let room = max.saturating_sub(messages.len());
        messages.reserve(room);
        let spare = messages.spare_capacity_mut();
        let room = room.min(spare.len());
        const _: () = assert!(size_of::<QueuedMessage>() == size_of::<*mut c_void>());
        // SAFETY: `QueuedMessage` is a transparent non-null message pointer, so `spare` is room
        // for `room` of the pointers librdkafka writes, each a message that is ours to destroy.
        let taken = unsafe {
            rdsys::rd_kafka_consume_batch_queue(
                self.queue.as_ptr(),
                0,
                spare.as_mut_ptr().cast(),
                room,
            )
        };
        // -1 means the queue is not a consumer's, which it always is: then nothing was taken.
        let taken = usize::try_from(taken).unwrap_or(0);
        // SAFETY: librdkafka wrote `taken` non-null message pointers after the current length.
        unsafe { messages.set_len(messages.len() + taken) };
    }

    /// Resolves once something was queued since the last call returned (or at once if that
    /// happened before this call: the wake-up is kept until someone waits).
    pub(crate) async fn ready(&self) {
        self.ready.notified().await;
    }
}

impl Drop for MessageQueue {
    fn drop(&mut self) {
        // SAFETY: disabling the callback takes the queue's lock, which librdkafka holds while it
        // calls it, so no call is under way or can start once this returns; then the handle is
        // released. Partitions still routed here keep the queue itself alive, disabled, so what
        // they fetch from now on is dropped.
        unsafe {
            rdsys::rd_kafka_queue_cb_event_enable(self.queue.as_ptr(), None, ptr::null_mut());
            rdsys::rd_kafka_queue_destroy(self.queue.as_ptr());
        }
    }
}

/// librdkafka's callback when the queue turns non-empty, on one of its threads.
unsafe extern "C" fn wake(_client: *mut rdsys::rd_kafka_t, ready: *mut c_void) {
    // SAFETY: `ready` is the queue's `Notify`, which outlives the callback (see `drop`).
    let ready = unsafe { &*ready.cast::<Notify>() };
    ready.notify_one();
}

/// One message (or per-partition error) taken from a [`MessageQueue`], destroyed when
/// dropped. Its key, payload and headers are borrowed from librdkafka's fetch buffers.
#[repr(transparent)]
pub(crate) struct QueuedMessage(NonNull<rdsys::rd_kafka_message_t>);

// SAFETY: a taken message is owned by whoever holds the pointer, and librdkafka only reads
// it again when it is destroyed; reading it from any thread is fine.
unsafe impl Send for QueuedMessage {}
unsafe impl Sync for QueuedMessage {}

impl QueuedMessage {
    fn raw(&self) -> &rdsys::rd_kafka_message_t {
        // SAFETY: the pointer is a live message until `drop`.
        unsafe { self.0.as_ref() }
    }

    /// What went wrong instead of a message, if this is an error: as `rdkafka`'s consumers
    /// report it.
    pub(crate) fn error(&self) -> Option<KafkaError> {
        match self.raw().err {
            RDKafkaRespErr::RD_KAFKA_RESP_ERR_NO_ERROR => None,
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__PARTITION_EOF => {
                Some(KafkaError::PartitionEOF(self.partition()))
            }
            code => Some(KafkaError::MessageConsumption(code.into())),
        }
    }

    /// librdkafka's handle of the message's topic: equal handles, equal topics.
    pub(crate) fn topic_handle(&self) -> *mut rdsys::rd_kafka_topic_t {
        self.raw().rkt
    }

    pub(crate) fn topic(&self) -> &str {
        // SAFETY: a message holds a reference to its topic, whose name lives as long.
        let name = unsafe { CStr::from_ptr(rdsys::rd_kafka_topic_name(self.raw().rkt)) };
        name.to_str().expect("subscribed topic names are UTF-8")
    }

    pub(crate) fn partition(&self) -> i32 {
        self.raw().partition
    }

    pub(crate) fn offset(&self) -> i64 {
        self.raw().offset
    }

    pub(crate) fn key(&self) -> Option<&[u8]> {
        // SAFETY: `key` is null or `key_len` bytes that live as long as the message.
        unsafe { bytes(self.raw().key, self.raw().key_len) }
    }

    pub(crate) fn payload(&self) -> Option<&[u8]> {
        // SAFETY: `payload` is null or `len` bytes that live as long as the message.
        unsafe { bytes(self.raw().payload, self.raw().len) }
    }

    /// The message's headers as `(name, value)` pairs, in order; parsed by librdkafka on the
    /// first call. A header whose name is not UTF-8 is left out.
    pub(crate) fn headers(&self) -> impl Iterator<Item = (&str, Option<&[u8]>)> {
        let mut headers = ptr::null_mut();
        // SAFETY: the message is live; the headers it returns belong to it.
        let found = unsafe { rdsys::rd_kafka_message_headers(self.0.as_ptr(), &mut headers) };
        let count = if found == RDKafkaRespErr::RD_KAFKA_RESP_ERR_NO_ERROR {
            // SAFETY: `headers` was just returned for this message.
            unsafe { rdsys::rd_kafka_header_cnt(headers) }
        } else {
            0
        };
        (0..count).filter_map(move |index| {
            let (mut name, mut value, mut size) = (ptr::null(), ptr::null(), 0);
            // SAFETY: `index` is below the count; the name is a C string and the value null or
            // `size` bytes, all owned by the message's headers.
            unsafe {
                let got = rdsys::rd_kafka_header_get_all(
                    headers, index, &mut name, &mut value, &mut size,
                );
                if got != RDKafkaRespErr::RD_KAFKA_RESP_ERR_NO_ERROR {
                    return None;
                }
                let name = CStr::from_ptr(name).to_str().ok()?;
                Some((name, bytes(value.cast_mut(), size)))
            }
        })
    }
}

impl Drop for QueuedMessage {
    fn drop(&mut self) {
        // SAFETY: the message was taken from the queue and is destroyed once, here.
        unsafe { rdsys::rd_kafka_message_destroy(self.0.as_ptr()) }
    }
}

/// `len` bytes at `data`, or `None` for a null pointer (an absent key or payload).
///
/// # Safety
///
/// A non-null `data` must point to `len` readable bytes that outlive `'a`.
unsafe fn bytes<'a>(data: *mut c_void, len: usize) -> Option<&'a [u8]> {
    // SAFETY: the caller's promise.
    (!data.is_null()).then(|| unsafe { slice::from_raw_parts(data.cast::<u8>(), len) })
}
