from tidecast.cli import main

main()
