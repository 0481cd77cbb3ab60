from mmeb.cli import main

raise SystemExit(main())
