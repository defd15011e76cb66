"""Tests of whole processes: browsers, deployment files, several servers, live fuzzing and
the benchmark smoke run. All carry the `system` marker."""
