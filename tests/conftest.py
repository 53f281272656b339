import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

# Every document the engine re-reads in part after a batch of fixes (cfnfix.text.reparse) is
# compared with a reading of the whole text, in this process and in the ones it starts.
os.environ.setdefault("CFNFIX_CHECK_REPARSE", "1")
# Every finding, style count and reference list kept per entry for an edited version of a
# document (cfnfix.fixing.memo, Document.per_entry) is compared with a fresh one.
os.environ.setdefault("CFNFIX_CHECK_MEMO", "1")
