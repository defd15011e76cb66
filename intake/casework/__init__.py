"""The case workflow: filing, the reporter's side, access to a case, the queue, stages,
export and retention."""
