#!/bin/sh
# set things up, then run the application
python3 app.py
