"""Reaching the registry's Redis: a server by URL, a Redis Cluster, or the embedded server this
package starts and stops (client.py, cluster.py, embedded.py and its linger watcher, linger.py),
and which redis-py failures mean "Redis cannot serve now" (failures.py)."""
