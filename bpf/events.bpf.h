/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The event stream: the ring buffer user space reads, the per-CPU counters of what it
 * had no room for, when to wake the reader, and the header every record starts with.
 * Needs process.bpf.h (process_comm) first.
 */
#ifndef EHTTP_EVENTS_BPF_H
#define EHTTP_EVENTS_BPF_H

/* Wake the reader only once this much is waiting; it polls on a short timer anyway,
 * and a wakeup per event would cost more than the event under load. */
const volatile __u64 wakeup_bytes = 1 << 16;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20); /* user space sets the size */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct capture_counters);
} counters SEC(".maps");

static __always_inline void count_drop(__u64 bytes)
{
	__u32 zero = 0;
	struct capture_counters *cnt = bpf_map_lookup_elem(&counters, &zero);

	if (cnt) {
		cnt->dropped++;
		cnt->dropped_bytes += bytes;
	}
}

/* For the rare events (close, exit): wake the reader when enough is waiting. */
static __always_inline __u64 wakeup_flags(void)
{
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes ? BPF_RB_FORCE_WAKEUP
									     : BPF_RB_NO_WAKEUP;
}

/* @task_filled: the socket hooks put the ids and name of the task in the header
 * already (scratch_task()); elsewhere they come from @id and process_comm(). */
static __always_inline void fill_header(struct capture_event *e, __u32 type, __u64 id, int fd,
					const struct capture_conn *c, const bool task_filled)
{
	e->ts_ns = bpf_ktime_get_ns();
	e->type = type;
	e->size = sizeof(*e); /* data events add their payload */
	if (!task_filled) {
		e->pid = id >> 32;
		e->tid = (__u32)id;
		process_comm(e->comm, id, NULL);
	}
	e->fd = fd;
	e->conn_id = c->conn_id;
	e->role = c->role;
	e->class = c->class;
	e->local = c->local;
	e->remote = c->remote;
}

#endif
