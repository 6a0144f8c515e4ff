"""Every SQL statement and ORM query of the hub, and its one transaction style.

- ``hub.store.db``: the database (connection, migrations) and the unit of work
  (``Database.run(script)``, ``Database.transaction()``), which hands the jobs it committed to
  this process's worker by itself;
- ``hub.store.sql``: statements built once per dialect (``Sql``) and the ``Script`` type;
- ``hub.store.jobs``: the job table; ``calls``, ``leads`` (with ``change_lead``, the one way a
  lead changes), ``messages``, ``deliveries``, ``contacts`` (opt-outs, inbox events);
- ``hub.store.reads``: leads with filters and pages, one lead in full, counts.

Domain modules import these modules, never ``hub.store`` itself.
"""
