"""Where tasks run: in this process, or on Dask distributed (a LocalCluster or a scheduler address).

Dask does the scheduling; this is only the switch between a loop and
``client.submit``/``client.gather`` so that the same functions run in both.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence


class Runner:
    """``map(fn, [args, ...])`` -> results in order.

    ``client``: an existing ``dask.distributed.Client`` (not closed here);
    ``scheduler``: ``"tcp://host:8786"`` of a running cluster, or ``"local"`` for a
    ``LocalCluster`` of single-threaded worker processes (one per core); neither:
    run in this process. On a real cluster the store and export paths must be
    reachable by every worker (shared or object storage), and workers need the
    same package version and ``$EVALUATION_PSEUDONYM_KEY``.
    """

    def __init__(self, client: Any = None, scheduler: str | None = None, n_workers: int | None = None):
        self._own: list[Any] = []
        self.client = client
        self.scheduler = scheduler if client is None else None
        self.n_workers = n_workers

    def _connect(self) -> None:
        # started on the first real work, so a no-op build never pays for a cluster
        from dask.distributed import Client, LocalCluster

        if self.scheduler == "local":
            cluster = LocalCluster(n_workers=self.n_workers, threads_per_worker=1, processes=True, dashboard_address=None)
            self._own.append(cluster)
            self.client = Client(cluster)
        else:
            self.client = Client(self.scheduler)
        self._own.insert(0, self.client)
        self.scheduler = None

    @property
    def where(self) -> str:
        if self.client is None:
            return "local" if self.scheduler is None else f"dask ({self.scheduler}, not started: nothing to do)"
        return f"dask ({len(self.client.scheduler_info().get('workers', {}))} workers)"

    def slots(self) -> int:
        """Tasks that can run at once (1 in this process; twice the Dask worker threads, so the
        scheduler can balance uneven tasks). Starts the cluster if it is not running yet."""
        if self.client is None and self.scheduler:
            self._connect()
        if self.client is None:
            return 1
        workers = self.client.scheduler_info().get("workers", {})
        return max(1, 2 * sum(int(w.get("nthreads", 1)) for w in workers.values()))

    def map(self, fn: Callable[..., Any], calls: Sequence[tuple], **kwargs: Any) -> list[Any]:
        if not calls:
            return []
        if self.client is None and self.scheduler:
            self._connect()
        if self.client is None:
            return [fn(*args, **kwargs) for args in calls]
        futures = [self.client.submit(fn, *args, **kwargs, pure=False) for args in calls]
        return self.client.gather(futures)

    def close(self) -> None:
        for obj in self._own:
            obj.close()
        self._own = []

    def __enter__(self) -> "Runner":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
