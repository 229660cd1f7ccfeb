"""Jobs: what turns inputs into outputs with a model.

- ``scoring``: the one scoring path (texts, documents, records, frames); everything below uses it.
- ``job``: a classification job's options, checks, fingerprint and summary, shared by both engines.
- ``local``: the local engine (``run_job``): files in, a file or stream out, resumable.
- ``dask_engine``: the Dask engine (``run_dask_job``, ``classify_dask``): partitions on a cluster.
- ``report``: documents in, the HTML report out.
- ``training``: labeled data in, a saved model with its card out.
"""
