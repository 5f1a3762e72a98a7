"""What the GPU bench scripts share: a CUDA-event timer with an L2 flush, and the header and output
of their markdown tables (device line, date, torch version, commit)."""
import datetime
import os
import subprocess

import torch


class Timer:
    def __init__(self, device="cuda"):
        self.flush = torch.empty(512 * 1024 * 1024, dtype=torch.uint8, device=device)

    def median_ms(self, fn, reps):
        for _ in range(3):
            fn()
        times = []
        for _ in range(reps):
            self.flush.zero_()
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end))
        times.sort()
        return times[len(times) // 2]


def table_header(title):
    """The table's first lines: `# {title} on <device>` and the date/device/torch/commit line."""
    smi = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"],
                         capture_output=True, text=True).stdout.strip()
    return [f"# {title} on {smi}", "",
            f"date {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}, device `{smi}`, "
            f"torch {torch.__version__}, commit `{os.environ.get('HS_COMMIT', 'unknown')}`", ""]


def emit_table(lines, path):
    """Prints the table and writes it to `path` when given."""
    table = "\n".join(lines) + "\n"
    print("\n" + table)
    if path:
        with open(path, "w") as f:
            f.write(table)
