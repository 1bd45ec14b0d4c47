//! The signature work of ingest, spread over every core this process may use, batch after
//! batch in the order they arrive.
//!
//! One thread per core, started once, takes batches from one queue. Every thread joins the
//! oldest batch that still has items left, and each takes that batch's items one at a time,
//! so a batch is finished by all the cores together as soon as it can be, and a thread that
//! finds nothing left in it moves on to the next batch at once rather than waiting for the
//! last item. A batch's caller then writes it to the database while the cores carry on with
//! the next. (A work-stealing pool such as rayon's lets a thread that waits for one batch
//! start another inside it; the first then finishes only with the second, batches end in
//! bunches, their writes queue together, and the cores idle meanwhile.)

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError};

/// A batch as the threads see it: take an item and work on it until none is left.
trait Batch: Send + Sync {
    /// Works on items of this batch until every one is taken.
    fn work(&self);
}

/// One call's items, the work to do on each, and what came of each.
struct Items<T, R, F> {
    items: Vec<T>,
    f: F,
    next: AtomicUsize,
    /// One slot per item: its result, or the panic it raised.
    results: Vec<Mutex<Option<std::thread::Result<R>>>>,
    finished: AtomicUsize,
    done: Mutex<Option<tokio::sync::oneshot::Sender<()>>>,
}

impl<T, R, F> Batch for Items<T, R, F>
where
    T: Send + Sync,
    R: Send,
    F: Fn(&T) -> R + Send + Sync,
{
    fn work(&self) {
        loop {
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            let Some(item) = self.items.get(i) else {
                return;
            };
            let result = catch_unwind(AssertUnwindSafe(|| (self.f)(item)));
            *lock(&self.results[i]) = Some(result);
            if self.finished.fetch_add(1, Ordering::AcqRel) + 1 == self.items.len()
                && let Some(done) = lock(&self.done).take()
            {
                // The caller may have gone (its request dropped); nobody then wants these.
                let _ = done.send(());
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic is caught inside `work`, never while a lock is held.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

struct Pool {
    queue: Mutex<VecDeque<Arc<dyn Batch>>>,
    ready: Condvar,
    threads: usize,
}

impl Pool {
    fn global() -> &'static Arc<Pool> {
        static POOL: OnceLock<Arc<Pool>> = OnceLock::new();
        POOL.get_or_init(|| {
            // The cores this process may run on (its affinity), not the machine's.
            let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
            let pool = Arc::new(Pool {
                queue: Mutex::new(VecDeque::new()),
                ready: Condvar::new(),
                threads,
            });
            for n in 0..threads {
                let pool = pool.clone();
                std::thread::Builder::new()
                    .name(format!("doorstep-cores-{n}"))
                    .spawn(move || pool.serve())
                    .expect("a thread for the signature pool");
            }
            pool
        })
    }

    fn serve(&self) {
        loop {
            let batch = {
                let mut queue = lock(&self.queue);
                loop {
                    match queue.pop_front() {
                        Some(batch) => break batch,
                        None => {
                            queue = self
                                .ready
                                .wait(queue)
                                .unwrap_or_else(PoisonError::into_inner)
                        }
                    }
                }
            };
            batch.work();
        }
    }

    fn submit(&self, batch: Arc<dyn Batch>) {
        let mut queue = lock(&self.queue);
        // Once for each thread, so that all of them may join in; a thread that finds the batch
        // already taken moves on.
        for _ in 0..self.threads {
            queue.push_back(batch.clone());
        }
        drop(queue);
        self.ready.notify_all();
    }
}

/// Maps `f` over `items` on every core this process may use; the results come back in order.
/// The work is queued at once, when this is called, behind the batches queued before it; the
/// caller awaits it without holding a thread. A panic in `f` is raised again in the caller.
pub fn on_cores<T, R, F>(items: Vec<T>, f: F) -> impl Future<Output = Vec<R>> + Send
where
    T: Send + Sync + 'static,
    R: Send + 'static,
    F: Fn(&T) -> R + Send + Sync + 'static,
{
    let (done, finished) = tokio::sync::oneshot::channel();
    let empty = items.is_empty();
    let batch = Arc::new(Items {
        results: (0..items.len()).map(|_| Mutex::new(None)).collect(),
        items,
        f,
        next: AtomicUsize::new(0),
        finished: AtomicUsize::new(0),
        done: Mutex::new(Some(done)),
    });
    if !empty {
        Pool::global().submit(batch.clone());
    }
    async move {
        if !empty {
            // The pool's threads live as long as the process, and every item ends in a result.
            finished
                .await
                .expect("the signature pool finishes what it takes");
        }
        batch
            .results
            .iter()
            .map(|slot| match lock(slot).take() {
                Some(Ok(r)) => r,
                Some(Err(panic)) => resume_unwind(panic),
                None => unreachable!("every item has finished"),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn results_come_back_in_order() {
        let items: Vec<u32> = (0..1000).collect();
        let expected: Vec<u32> = items.iter().map(|n| n * 2).collect();
        assert_eq!(on_cores(items, |n| n * 2).await, expected);
        assert_eq!(on_cores(Vec::<u32>::new(), |n| *n).await, Vec::<u32>::new());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_callers_each_get_their_own_results() {
        let callers = (0..8u64).map(|c| {
            tokio::spawn(async move {
                let items: Vec<u64> = (0..200).map(|i| c * 1000 + i).collect();
                let expected: Vec<u64> = items.iter().map(|n| n + 1).collect();
                assert_eq!(on_cores(items, |n| n + 1).await, expected);
            })
        });
        for caller in callers {
            caller.await.unwrap();
        }
    }

    #[tokio::test]
    async fn a_panic_reaches_the_caller_and_the_pool_carries_on() {
        let panicked = tokio::spawn(on_cores(vec![1, 2, 3], |&n: &i32| {
            assert_ne!(n, 2, "two refused");
            n
        }))
        .await;
        assert!(panicked.unwrap_err().is_panic());
        assert_eq!(on_cores(vec![1, 2, 3], |n| n * 10).await, vec![10, 20, 30]);
    }

    /// Four batches queued one after the other each come back once their own items are done,
    /// not together with the later ones. (rayon's pool, with the same four callers, handed the
    /// first back only after 60 to 120 of the 80 items had begun.)
    #[tokio::test]
    async fn batches_come_back_in_the_order_they_came() {
        use std::sync::atomic::AtomicU64;
        use std::time::Duration;
        const ITEMS: u64 = 20;
        static BEGUN: AtomicU64 = AtomicU64::new(0);
        let work = |_: &u8| {
            BEGUN.fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(5));
        };
        let batches: Vec<_> = (0..4)
            .map(|_| on_cores(vec![0; ITEMS as usize], work))
            .collect();
        let threads = Pool::global().threads as u64;
        for (k, batch) in (1..).zip(batches) {
            batch.await;
            let begun = BEGUN.load(Ordering::SeqCst);
            // Besides its own and those before it, the items other threads began while its
            // last ran, and a few more while this task woke.
            assert!(
                begun <= k * ITEMS + 2 * threads + 2,
                "batch {k} came back after {begun} items had begun"
            );
        }
    }
}
