"""python -m bot.retrain --help"""
import sys

from bot.retrain.cli import main

sys.exit(main())
