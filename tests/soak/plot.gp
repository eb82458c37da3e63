# Draws scripts/soak.sh's samples:
#   gnuplot -e "csv='samples.csv'; png='soak.png'; warmup=10; heading='...'" plot.gp
# Columns: t, rss_kb, fds, threads, calls, errors, faulted, calls_per_s.
# The dotted vertical line is the warm-up sample the growth bounds start from.
if (!exists("heading")) heading = "payments-server soak"
if (!exists("warmup")) warmup = 10
set datafile separator ","
set terminal pngcairo size 1200,800 font "sans,10"
set output png
set grid
set xlabel "time since the first sample (s)"
set yrange [0:*]
set offsets 0, 0, graph 0.15, 0
set arrow 1 from warmup, graph 0 to warmup, graph 1 nohead dt 3 lw 1 lc "gray40"
set key top left opaque box
set multiplot layout 2,2 title heading font "sans,12"

set title "Resident memory (VmRSS)"
set ylabel "MiB"
plot csv using 1:($2/1024) every ::1 with lines lw 2 title "RSS"

set title "Open file descriptors"
set ylabel "fds"
plot csv using 1:3 every ::1 with lines lw 2 lc "dark-orange" title "fds"

set title "Threads"
set ylabel "threads"
plot csv using 1:4 every ::1 with lines lw 2 lc "dark-green" title "threads"

set title "Calls"
set ylabel "calls/s"
set y2label "cumulative count"
set y2range [0:*]
set y2tics
set ytics nomirror
# Headroom above the call rate for the key.
set offsets 0, 0, graph 0.6, 0
plot csv using 1:8 every ::1 with lines lw 2 lc "blue" title "calls/s", \
     csv using 1:7 every ::1 axes x1y2 with steps lw 1 dt 2 lc "gray30" title "faulted calls (right)", \
     csv using 1:6 every ::1 axes x1y2 with steps lw 2 lc "red" title "unexplained errors (right)"
unset multiplot
