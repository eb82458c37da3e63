# Draws scripts/soak.sh's samples: gnuplot -e "csv='...'; png='...'" plot.gp
# Columns: t, rss_kb, fds, threads, calls, errors, faulted, calls_per_s.
set datafile separator ","
set terminal pngcairo size 1200,800 font "sans,10"
set output png
set key top left
set grid
set xlabel "time since start (s)"
set yrange [0:*]
set multiplot layout 2,2 title "payments-server soak"

set title "Resident memory (VmRSS)"
set ylabel "MiB"
plot csv using 1:($2/1024) every ::1 with lines lw 2 title "RSS"

set title "Open file descriptors"
set ylabel "fds"
plot csv using 1:3 every ::1 with lines lw 2 title "fds"

set title "Threads"
set ylabel "threads"
plot csv using 1:4 every ::1 with lines lw 2 title "threads"

set title "Calls"
set ylabel "calls/s"
set y2label "cumulative errors / faulted calls"
set y2tics
set ytics nomirror
plot csv using 1:8 every ::1 with lines lw 2 title "calls/s", \
     csv using 1:6 every ::1 axes x1y2 with steps lw 2 title "unexplained errors", \
     csv using 1:7 every ::1 axes x1y2 with steps lw 1 dt 2 title "faulted calls"
unset multiplot
