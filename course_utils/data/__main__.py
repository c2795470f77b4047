"""`python -m course_utils.data`: see `course_utils.data.main`."""

from course_utils.data import main

raise SystemExit(main())
